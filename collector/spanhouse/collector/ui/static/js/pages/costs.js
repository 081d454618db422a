// Costs: what the range cost (overall, per agent and model, over time), the month-end
// projection, budget status, alert history and savings recommendations. The budget and cost
// endpoints belong to the budgets work: where a collector does not serve one (404), its
// section says it is not available on this collector.
import { api, optional, records } from "../api.js";
import { barChart, lineChart } from "../charts.js";
import { badge, errorMessage, figures, fmtInt, fmtNum, fmtPct, fmtTime, fmtUsd, genericTable, h, isoMs, message, table, unavailable } from "../dom.js";
import { since } from "../route.js";
import { heading, rangeOf, rangePicker } from "./common.js";

const TREND_BUCKET = { "15m": "hour", "1h": "hour", "6h": "hour", "24h": "hour", "7d": "day", "30d": "day", all: "day" };

export async function renderCosts(view) {
  const range = rangeOf(view);
  const scope = { since: since(range) };
  const [overview, byModel, byAgent, trends, projection, budgets, alerts] = await Promise.all([
    api("/v1/reports/overview", scope),
    later("/v1/reports/costs", { ...scope, by: "model" }),
    later("/v1/reports/costs", { ...scope, by: "agent" }),
    later("/v1/reports/cost_trends", { ...scope, bucket: TREND_BUCKET[range] }),
    later("/v1/reports/projection", {}),
    later("/v1/budgets/status", {}),
    later("/v1/alerts", { limit: 50 }),
  ]);
  if (!view.alive) return;
  const [o] = records(overview);
  const [p] = projection.document ? records(projection.document) : [null];
  heading(
    view,
    "Costs",
    rangePicker(view),
    figures([
      { label: "Cost in range", metric: "cost_usd", value: o.cost_usd, text: fmtUsd(o.cost_usd) },
      { label: "Cost per minute", metric: "cost_per_minute", value: o.cost_per_minute, text: fmtUsd(o.cost_per_minute) },
      { label: "Tokens", metric: "tokens", value: o.input_tokens + o.output_tokens, text: fmtInt(o.input_tokens + o.output_tokens) },
      { label: "Unpriced model calls", metric: "unpriced_calls", value: o.unpriced_calls, text: fmtInt(o.unpriced_calls) },
      ...(p
        ? [
            { label: "Spent this month", metric: "spent_usd", value: p.spent_usd, text: fmtUsd(p.spent_usd) },
            { label: "Projected at month end", metric: "projected_usd", value: p.projected_usd, text: fmtUsd(p.projected_usd) },
            { label: "Daily rate", metric: "daily_rate_usd", value: p.daily_rate_usd, text: fmtUsd(p.daily_rate_usd) },
          ]
        : []),
    ]),
    p ? h("p", { class: "muted small" }, `Projection: spend so far plus the daily rate of the last ${fmtNum(p.rate_window_days, 2)} days times the days left until ${fmtTime(p.period_end)}.`) : null,
    h(
      "div",
      { class: "grid" },
      trends.document
        ? lineChart(`Cost per ${TREND_BUCKET[range]}`, records(trends.document).map((r) => ({ x: isoMs(r.bucket), y: r.cost_usd })), fmtUsd, {
            xLabel: (x) => new Date(x).toISOString().slice(0, 16).replace("T", " "),
          })
        : null,
      byAgent.document ? barChart("Cost by agent", records(byAgent.document).map((r) => ({ label: r.agent || "(none)", value: r.cost_usd || 0 })), fmtUsd) : null,
      byModel.document ? barChart("Cost by model", records(byModel.document).map((r) => ({ label: r.model || "(none)", value: r.cost_usd || 0 })), fmtUsd) : null,
    ),
    section("By model", "/v1/reports/costs", byModel, (doc) => breakdown(doc, "model")),
    section("Trend", "/v1/reports/cost_trends", trends, trendTable),
    section("Budgets", "/v1/budgets", budgets, budgetTable),
    section("Alerts", "/v1/alerts", alerts, alertTable),
    h("section", { id: "recommendations" }, h("h2", {}, "Recommendations"), h("p", { class: "muted" }, "Loading…")),
  );
  // The heaviest report and the least urgent: it fills in after the page is shown.
  later("/v1/reports/recommendations", scope).then((advice) => {
    if (!view.alive) return;
    view.main.querySelector("#recommendations").replaceWith(
      section("Recommendations", "/v1/reports/recommendations", advice, (doc) =>
        doc.rows.length ? genericTable(doc) : message("empty", "No recommendations: nothing in this range meets their evidence thresholds."),
      ),
    );
  });
}

// {document} when served, {missing: true} on 404, {error} otherwise.
async function later(path, params) {
  try {
    const document = await optional(path, params);
    return document === null ? { missing: true } : { document };
  } catch (error) {
    return { error };
  }
}

function section(title, path, result, render) {
  const body = result.missing ? unavailable(path) : result.error ? errorMessage(result.error) : render(result.document);
  return h("section", { class: "later", "data-endpoint": path }, h("h2", {}, title), body);
}

function breakdown(doc, key) {
  return table(
    [
      { key, label: key === "model" ? "Model" : "Agent", format: (v) => v || "(none)" },
      { key: "model_calls", label: "Calls", numeric: true, format: fmtInt },
      { key: "input_tokens", label: "Input", numeric: true, format: fmtInt },
      { key: "cached_input_tokens", label: "Cached", numeric: true, format: fmtInt },
      { key: "cache_write_tokens", label: "Cache write", numeric: true, format: fmtInt },
      { key: "output_tokens", label: "Output", numeric: true, format: fmtInt },
      { key: "reasoning_tokens", label: "Reasoning", numeric: true, format: fmtInt },
      { key: "cost_usd", label: "Cost", numeric: true, format: fmtUsd },
      { key: "share_of_cost", label: "Share", numeric: true, format: fmtPct },
      { key: "unpriced_calls", label: "Unpriced calls", numeric: true, format: fmtInt },
    ],
    records(doc),
    { rowAttrs: (r) => ({ "data-key": r[key] }), empty: "No model calls in this range." },
  );
}

function trendTable(doc) {
  return table(
    [
      { key: "bucket", label: "Bucket" },
      { key: "model_calls", label: "Calls", numeric: true, format: fmtInt },
      { key: "total_tokens", label: "Tokens", numeric: true, format: fmtInt },
      { key: "cost_usd", label: "Cost", numeric: true, format: fmtUsd },
      { key: "change_pct", label: "Change", numeric: true, format: (v) => (v === null || v === undefined ? "—" : `${v > 0 ? "+" : ""}${fmtNum(v, 1)}%`) },
    ],
    records(doc),
    { empty: "No spend in this range." },
  );
}

function budgetTable(doc) {
  const rows = doc.status || [];
  return table(
    [
      { key: "name", label: "Budget" },
      { key: "period", label: "Period" },
      { key: "period_start", label: "Since", format: fmtTime },
      { key: "spent", label: "Spent", numeric: true, format: (v, r) => money(v, r.unit) },
      { key: "limit", label: "Limit", numeric: true, format: (v, r) => money(v, r.unit) },
      { key: "percent", label: "Used", numeric: true, format: (v) => `${fmtNum(v, 1)}%` },
      { key: "projected", label: "Projected", numeric: true, format: (v, r) => money(v, r.unit) },
      { key: "state", label: "State", cell: (r) => badge(r.state, `budget-${r.state}`) },
    ],
    rows,
    { rowAttrs: (r) => ({ "data-budget": r.name }), empty: "No budgets: add one with `spanhouse budgets add` or POST /v1/budgets." },
  );
}

function money(value, unit) {
  return unit === "tokens" ? `${fmtInt(value)} tok` : fmtUsd(value);
}

function alertTable(doc) {
  return table(
    [
      { key: "fired_at", label: "Fired", format: fmtTime },
      { key: "severity", label: "Severity", cell: (r) => badge(r.severity, `severity-${r.severity}`) },
      { key: "kind", label: "Kind" },
      { key: "subject", label: "Subject" },
      { key: "message", label: "Message" },
      { key: "resolved_at", label: "Resolved", format: (v) => (v ? fmtTime(v) : "open") },
    ],
    doc.alerts || [],
    { rowAttrs: (r) => ({ "data-alert": r.dedup_key }), empty: "No alerts have fired." },
  );
}
