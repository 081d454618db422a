// Experiments: each experiment's verdict, sample-ratio check and per-variant confidence
// intervals, from GET /v1/experiments where this collector serves it.
import { optional } from "../api.js";
import { intervalChart } from "../charts.js";
import { fmtNum, genericTable, h, unavailable } from "../dom.js";
import { heading } from "./common.js";

export const PATH = "/v1/experiments";

export async function renderExperiments(view) {
  const document = await optional(PATH);
  if (!view.alive) return;
  if (document === null) {
    heading(view, "Experiments", unavailable(PATH));
    return;
  }
  const list = Array.isArray(document) ? document : document.experiments || [];
  heading(
    view,
    "Experiments",
    genericTable(list.map(summary), "Experiments"),
    list.map((experiment) => {
      const intervals = (experiment.results || experiment.variants || [])
        .map((r) => ({ label: `${r.variant ?? r.name ?? ""} ${r.metric ?? ""}`.trim(), low: r.ci_low, high: r.ci_high, mid: r.mean ?? r.difference }))
        .filter((r) => Number.isFinite(r.low));
      return intervals.length ? intervalChart(`${experiment.name}: confidence intervals`, intervals, (v) => fmtNum(v, 3)) : null;
    }),
    h("p", { class: "muted small" }, "Verdicts and intervals are computed by the collector's experiment evaluation."),
  );
}

function summary(experiment) {
  const out = {};
  for (const [key, value] of Object.entries(experiment)) {
    if (!Array.isArray(value) || value.every((v) => typeof v !== "object")) out[key] = value;
  }
  return out;
}
