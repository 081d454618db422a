// Experiments: the definitions, and for one experiment its verdict, the sample-ratio check,
// the power line and per-variant confidence intervals drawn as charts (GET /v1/experiments,
// /v1/experiments/results and /history). A collector without them (404) says so.
import { api, optional } from "../api.js";
import { intervalChart } from "../charts.js";
import { badge, fmtInt, fmtNum, fmtPct, fmtTime, genericTable, h, plain, table, unavailable } from "../dom.js";
import { link } from "../route.js";
import { heading } from "./common.js";

export const PATH = "/v1/experiments";

export async function renderExperiments(view) {
  if (view.path[1]) return renderExperiment(view, view.path[1]);
  const document = await optional(PATH);
  if (!view.alive) return;
  if (document === null) {
    heading(view, "Experiments", unavailable(PATH));
    return;
  }
  heading(
    view,
    "Experiments",
    table(
      [
        { key: "name", label: "Experiment", cell: (r) => h("a", { href: link(["experiments", r.name]) }, r.name) },
        { key: "status", label: "Status", cell: (r) => badge(r.status, `status-${r.status}`) },
        { key: "variants", label: "Split", format: split },
        { key: "primary", label: "Primary metric" },
        { key: "guards", label: "Guards", format: (v) => (v && v.length ? v.join(", ") : "—") },
        { key: "alpha", label: "Alpha", numeric: true, format: (v) => fmtNum(v, 3) },
        { key: "min_sample", label: "Min sample", numeric: true, format: fmtInt },
        { key: "start_at", label: "Started", format: (v) => (v ? fmtTime(v) : "not started") },
      ],
      document.experiments || [],
      { rowAttrs: (r) => ({ "data-experiment": r.name }), empty: "No experiments: create one with `spanhouse experiments create`." },
    ),
  );
}

async function renderExperiment(view, name) {
  const [results, history] = await Promise.all([
    api(`${PATH}/results`, { name }),
    api(`${PATH}/history`, { name, limit: 20 }).catch(() => null),
  ]);
  if (!view.alive) return;
  document.title = `Experiment ${name} · spanhouse`;
  const v = results.verdict;
  const rows = results.results || [];
  const metrics = [...new Set(rows.map((r) => r.metric))];
  heading(
    view,
    `Experiment ${name}`,
    h("p", {}, h("a", { href: link(["experiments"]) }, "All experiments"), ` · evaluated ${fmtTime(results.evaluated_at)} · `, badge(results.status, `status-${results.status}`)),
    h(
      "section",
      { class: "verdict", "aria-label": "Verdict" },
      h("h2", {}, "Verdict ", badge(v.winner ? `winner: ${v.winner}` : "no winner yet", v.winner ? "ok" : "degraded")),
      v.reasons.length ? h("ul", {}, v.reasons.map((r) => h("li", {}, r))) : null,
      v.notes.length ? h("ul", { class: "muted" }, v.notes.map((n) => h("li", {}, n))) : null,
      h(
        "p",
        { "data-srm": v.srm_flagged ? "flagged" : "ok" },
        "Sample ratio: ",
        v.srm_flagged ? badge("mismatch", "error") : badge("as configured", "ok"),
        v.srm_p_value === null || v.srm_p_value === undefined ? "" : ` (χ² p = ${fmtNum(v.srm_p_value, 4)}, flagged below 0.001)`,
        ` · minimum sample ${v.min_sample_reached ? "reached" : "not reached"}`,
      ),
      v.power ? h("p", { class: "muted" }, v.power) : null,
      h("p", { class: "muted small" }, `Primary metric p-values are ${v.primary_p_value_kind === "always_valid" ? "always-valid (sequential: safe to look at any time)" : "fixed-horizon"}.`),
    ),
    metrics.map((metric) => metricBlock(metric, rows.filter((r) => r.metric === metric))),
    history && history.rows && history.rows.length ? [h("h2", {}, "Verdict history"), genericTable(history)] : null,
  );
}

function metricBlock(metric, rows) {
  const control = rows.find((r) => r.is_control);
  return h(
    "section",
    { class: "metric", "data-metric-block": metric },
    h("h2", {}, `Metric ${metric}`),
    h(
      "div",
      { class: "grid" },
      intervalChart(
        `${metric}: mean and 95% interval per variant`,
        rows.map((r) => ({ label: r.variant, low: r.ci_low, high: r.ci_high, mid: r.mean })),
        num,
        control && Number.isFinite(control.mean) ? control.mean : 0,
      ),
      intervalChart(
        `${metric}: difference against ${control ? control.variant : "the control"}`,
        rows.filter((r) => !r.is_control).map((r) => ({ label: r.variant, low: r.diff_ci_low, high: r.diff_ci_high, mid: r.diff })),
        num,
        0,
      ),
    ),
    table(
      [
        { key: "variant", label: "Variant", format: (x, r) => (r.is_control ? `${x} (control)` : x) },
        { key: "n", label: "n", numeric: true, format: fmtInt },
        { key: "mean", label: "Mean", numeric: true, format: num },
        { key: "ci_low", label: "95% interval", numeric: true, format: (x, r) => interval(r.ci_low, r.ci_high) },
        { key: "diff", label: "Difference", numeric: true, format: (x, r) => (r.is_control ? "" : `${num(x)} ${interval(r.diff_ci_low, r.diff_ci_high)}`) },
        { key: "rel_diff", label: "Relative", numeric: true, format: (x, r) => (r.is_control || x === null ? "" : fmtPct(x)) },
        { key: "p_value", label: "p", numeric: true, format: (x, r) => (r.is_control ? "" : fmtNum(x, 4)) },
        { key: "p_adjusted", label: "p (Holm)", numeric: true, format: (x, r) => (r.is_control ? "" : fmtNum(x, 4)) },
        { key: "better", label: "", cell: (r) => (r.better === true ? badge("better", "ok") : r.better === false ? badge("worse", "error") : "") },
        { key: "test", label: "Test", format: plain },
      ],
      rows,
      { rowAttrs: (r) => ({ "data-variant": r.variant }) },
    ),
  );
}

function interval(low, high) {
  if (low === null || low === undefined || high === null || high === undefined) return "—";
  return `[${num(low)}, ${num(high)}]`;
}

// Four significant digits for small values (costs in USD per run), four decimals otherwise.
function num(x) {
  if (x === null || x === undefined) return "—";
  return Math.abs(x) < 0.01 && x !== 0 ? Number(x).toPrecision(3) : fmtNum(x, 4);
}

function split(variants) {
  if (!variants || typeof variants !== "object") return plain(variants);
  return Object.entries(variants)
    .map(([name, weight]) => `${name} ${fmtNum(weight, 1)}`)
    .join(" / ");
}

