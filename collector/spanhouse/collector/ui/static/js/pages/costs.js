// Costs: what the stored runs cost (overview, per agent, over time) now; breakdowns, trends,
// projection, budget status and alert history from the budgets API where this collector has it.
// A section whose endpoint answers 404 says it is not available on this collector.
import { api, optional, records } from "../api.js";
import { barChart, lineChart } from "../charts.js";
import { errorMessage, figures, fmtInt, fmtNum, fmtUsd, genericTable, h, isoMs, unavailable } from "../dom.js";
import { since } from "../route.js";
import { bucketSeconds, heading, rangeOf, rangePicker } from "./common.js";

// Endpoints of the budgets work: shown when the collector serves them.
export const LATER = [
  ["Breakdown", "/v1/reports/costs"],
  ["Trends", "/v1/reports/cost_trends"],
  ["Projection", "/v1/reports/projection"],
  ["Budgets", "/v1/budgets"],
  ["Alerts", "/v1/alerts"],
];

export async function renderCosts(view) {
  const range = rangeOf(view);
  const scope = { since: since(range) };
  const [overview, agents] = await Promise.all([api("/v1/reports/overview", scope), api("/v1/reports/agents", scope)]);
  const [o] = records(overview);
  const series = await api("/v1/runs/series", { ...scope, bucket_seconds: bucketSeconds(o.window_s) });
  const later = await Promise.all(LATER.map(([, path]) => section(path, scope)));
  if (!view.alive) return;
  heading(
    view,
    "Costs",
    rangePicker(view),
    figures([
      { label: "Cost", metric: "cost_usd", value: o.cost_usd, text: fmtUsd(o.cost_usd) },
      { label: "Cost per minute", metric: "cost_per_minute", value: o.cost_per_minute, text: fmtUsd(o.cost_per_minute) },
      { label: "Tokens", metric: "tokens", value: o.input_tokens + o.output_tokens, text: fmtInt(o.input_tokens + o.output_tokens) },
      { label: "Unpriced model calls", metric: "unpriced_calls", value: o.unpriced_calls, text: fmtInt(o.unpriced_calls) },
    ]),
    h(
      "div",
      { class: "grid" },
      lineChart("Cost per bucket", records(series).map((r) => ({ x: isoMs(r.bucket), y: r.cost_usd })), fmtUsd),
      barChart("Cost by agent", records(agents).map((r) => ({ label: r.agent || "(unnamed)", value: r.cost_usd || 0 })), fmtUsd),
    ),
    LATER.map(([title, path], i) => h("section", { class: "later", "data-endpoint": path }, h("h2", {}, title), later[i])),
    h("p", { class: "muted small" }, `Per-minute figures divide by the ${fmtNum(o.window_s, 1)} s that hold data.`),
  );
}

async function section(path, scope) {
  try {
    const document = await optional(path, path.startsWith("/v1/reports/") ? scope : {});
    return document === null ? unavailable(path) : genericTable(document);
  } catch (error) {
    return errorMessage(error);
  }
}
