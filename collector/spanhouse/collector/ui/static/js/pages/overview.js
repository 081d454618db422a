// Overview: health, the overview report's figures, and time series of runs/min, error rate,
// p95 duration, tokens and cost.
import { api, records } from "../api.js";
import { lineChart } from "../charts.js";
import { badge, figures, fmtInt, fmtMs, fmtNum, fmtPct, fmtUsd, h, isoMs, message } from "../dom.js";
import { since } from "../route.js";
import { bucketSeconds, heading, rangeOf, rangePicker } from "./common.js";

export async function renderOverview(view) {
  const range = rangeOf(view);
  const scope = { since: since(range) };
  const [health, report] = await Promise.all([healthz(), api("/v1/reports/overview", scope)]);
  const [o] = records(report);
  const bucket = bucketSeconds(o.window_s);
  const series = await api("/v1/runs/series", { ...scope, bucket_seconds: bucket });
  if (!view.alive) return;
  const rows = records(series);
  const points = (key) => rows.map((r) => ({ x: isoMs(r.bucket), y: r[key] }));
  heading(
    view,
    "Overview",
    rangePicker(view),
    h(
      "section",
      { class: "health", "aria-label": "Health" },
      h("h2", {}, "Health ", badge(o.health, `health-${o.health}`)),
      h("p", { class: "muted" }, `Store: ${health}`),
      o.runs === 0 && range !== "all"
        ? message("empty", "No finished runs in this range. ", h("a", { href: "#/overview?range=all" }, "Show all time"))
        : null,
    ),
    figures([
      { label: "Runs", metric: "runs", value: o.runs, text: fmtInt(o.runs) },
      { label: "Active runs", metric: "active_runs", value: o.active_runs, text: fmtInt(o.active_runs) },
      { label: "Success rate", metric: "success_rate", value: o.success_rate, text: fmtPct(o.success_rate) },
      { label: "Error rate", metric: "error_rate", value: o.error_rate, text: fmtPct(o.error_rate) },
      { label: "Runs per minute", metric: "runs_per_minute", value: o.runs_per_minute, text: fmtNum(o.runs_per_minute) },
      { label: "Run p50", metric: "run_p50_ms", value: o.run_p50_ms, text: fmtMs(o.run_p50_ms) },
      { label: "Run p95", metric: "run_p95_ms", value: o.run_p95_ms, text: fmtMs(o.run_p95_ms) },
      { label: "Run p99", metric: "run_p99_ms", value: o.run_p99_ms, text: fmtMs(o.run_p99_ms) },
      { label: "Steps", metric: "steps", value: o.steps, text: fmtInt(o.steps) },
      { label: "Input tokens", metric: "input_tokens", value: o.input_tokens, text: fmtInt(o.input_tokens) },
      { label: "Output tokens", metric: "output_tokens", value: o.output_tokens, text: fmtInt(o.output_tokens) },
      { label: "Cost", metric: "cost_usd", value: o.cost_usd, text: fmtUsd(o.cost_usd) },
    ]),
    o.unpriced_calls
      ? message("warning", `${fmtInt(o.unpriced_calls)} model calls used a model with no known price; the cost leaves them out.`)
      : null,
    h(
      "section",
      { class: "charts", "aria-label": "Time series" },
      h("h2", {}, `Over time (buckets of ${fmtInt(bucket)} s)`),
      h(
        "div",
        { class: "grid" },
        lineChart("Runs per minute", points("runs_per_minute"), (v) => fmtNum(v)),
        lineChart("Error rate", points("error_rate"), fmtPct),
        lineChart("Run p95 duration", points("p95_ms"), fmtMs),
        lineChart("Tokens", points("tokens"), fmtInt),
        lineChart("Cost", points("cost_usd"), fmtUsd),
      ),
    ),
  );
}

async function healthz() {
  try {
    const response = await fetch("/healthz", { cache: "no-store", credentials: "omit" });
    const document = await response.json();
    return response.ok ? `${document.status} (${document.store})` : `unhealthy: ${document.store}`;
  } catch (error) {
    return `unknown (${error.message})`;
  }
}
