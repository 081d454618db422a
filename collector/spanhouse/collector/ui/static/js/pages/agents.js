// Agents: each agent's success rate, percentiles and per-run figures; one agent's benchmark
// categories, quality trend with its significance test, quality over time and peer comparison.
import { api, records } from "../api.js";
import { lineChart } from "../charts.js";
import { badge, figures, fmtInt, fmtMs, fmtNum, fmtPct, fmtUsd, h, isoMs, message, table } from "../dom.js";
import { link, since } from "../route.js";
import { heading, rangeOf, rangePicker } from "./common.js";

export async function renderAgents(view) {
  const range = rangeOf(view);
  const report = await api("/v1/reports/agents", { since: since(range) });
  if (!view.alive) return;
  const rows = records(report);
  heading(
    view,
    "Agents",
    rangePicker(view),
    table(
      [
        { key: "agent", label: "Agent", cell: (r) => h("a", { href: link(["agents", r.agent], { range }) }, r.agent || "(unnamed)") },
        { key: "executions", label: "Executions", numeric: true, format: fmtInt },
        { key: "success_rate", label: "Success", numeric: true, format: fmtPct },
        { key: "p50_ms", label: "p50", numeric: true, format: fmtMs },
        { key: "p95_ms", label: "p95", numeric: true, format: fmtMs },
        { key: "steps_per_run", label: "Steps/run", numeric: true, format: (v) => fmtNum(v, 1) },
        { key: "tokens_per_run", label: "Tokens/run", numeric: true, format: (v) => fmtNum(v, 0) },
        { key: "cost_per_run", label: "Cost/run", numeric: true, format: fmtUsd },
        { key: "avg_quality", label: "Quality", numeric: true, format: (v) => fmtNum(v, 3) },
      ],
      rows,
      { caption: "Per agent (nested agents count too)", empty: "No agent executions in this range.", rowAttrs: (r) => ({ "data-agent": r.agent }) },
    ),
  );
}

export async function renderAgent(view) {
  const agent = view.path[1];
  const range = rangeOf(view);
  const scope = { since: since(range), agent };
  const [perf, bench, trend, series, peers] = await Promise.all(
    ["agents", "benchmarks", "quality_trends", "quality_series", "peers"].map((name) => api(`/v1/reports/${name}`, scope)),
  );
  if (!view.alive) return;
  const [p] = records(perf);
  const title = `Agent ${agent}`;
  document.title = `${title} · spanhouse`;
  if (!p) {
    heading(view, title, rangePicker(view), message("empty", "No executions of this agent in this range."));
    return;
  }
  const [t] = records(trend);
  const [peer] = records(peers);
  heading(
    view,
    title,
    rangePicker(view),
    h("p", {}, h("a", { href: link(["runs"], { agent, range }) }, `Runs of ${agent}`)),
    figures([
      { label: "Executions", metric: "executions", value: p.executions, text: fmtInt(p.executions) },
      { label: "Success rate", metric: "success_rate", value: p.success_rate, text: fmtPct(p.success_rate) },
      { label: "p50", metric: "p50_ms", value: p.p50_ms, text: fmtMs(p.p50_ms) },
      { label: "p95", metric: "p95_ms", value: p.p95_ms, text: fmtMs(p.p95_ms) },
      { label: "Steps per run", metric: "steps_per_run", value: p.steps_per_run, text: fmtNum(p.steps_per_run, 1) },
      { label: "Tokens per run", metric: "tokens_per_run", value: p.tokens_per_run, text: fmtNum(p.tokens_per_run, 0) },
      { label: "Cost per run", metric: "cost_per_run", value: p.cost_per_run, text: fmtUsd(p.cost_per_run) },
      { label: "Quality", metric: "avg_quality", value: p.avg_quality, text: fmtNum(p.avg_quality, 3) },
    ]),
    h("h2", {}, "Benchmarks"),
    table(
      [
        { key: "dimension", label: "Dimension" },
        { key: "average", label: "Average", numeric: true, format: (v) => fmtNum(v, 1) },
        { key: "category", label: "Category", cell: (r) => badge(r.category, `cat-${r.category}`) },
        { key: "excellent_runs", label: "Excellent", numeric: true, format: fmtInt },
        { key: "good_runs", label: "Good", numeric: true, format: fmtInt },
        { key: "acceptable_runs", label: "Acceptable", numeric: true, format: fmtInt },
        { key: "poor_runs", label: "Poor", numeric: true, format: fmtInt },
      ],
      records(bench),
    ),
    h("h2", {}, "Quality trend"),
    t ? trendBlock(t) : message("empty", "Too few scored executions to fit a trend."),
    lineChart(
      "Average quality per bucket",
      records(series).map((r) => ({ x: isoMs(r.bucket), y: r.avg_quality })),
      (v) => fmtNum(v, 3),
      { xLabel: (x) => new Date(x).toISOString().slice(0, 16).replace("T", " ") },
    ),
    h("h2", {}, "Compared with peers"),
    peer ? peerBlock(peer) : message("empty", "No peers: this agent is alone in its service."),
  );
}

function trendBlock(t) {
  const significant = Math.abs(t.t_stat) > t.t_critical;
  return h(
    "div",
    { class: "trend" },
    h("p", {}, badge(t.trend, `trend-${t.trend}`), ` over ${fmtInt(t.scored)} scored executions, mean quality ${fmtNum(t.avg_quality, 3)}.`),
    h(
      "p",
      { class: "muted" },
      `Slope ${fmtNum(t.slope_per_day, 4)} per day (change over the range ${fmtNum(t.change_over_range, 3)}); `,
      `t = ${fmtNum(t.t_stat, 3)} against a critical value of ${fmtNum(t.t_critical, 3)} with ${fmtInt(t.df)} degrees of freedom: `,
      significant ? "significant." : "not significant.",
    ),
  );
}

function peerBlock(p) {
  const rows = [
    ["success_rate", "Success rate", fmtPct],
    ["p50_ms", "p50", fmtMs],
    ["tokens_per_run", "Tokens per run", (v) => fmtNum(v, 0)],
    ["cost_per_run", "Cost per run", fmtUsd],
    ["quality", "Quality", (v) => fmtNum(v, 3)],
  ].map(([key, label, format]) => ({
    label,
    mine: format(p[key]),
    theirs: format(p[`peer_${key}`]),
    verdict: p.strengths.includes(key) ? "strength" : p.weaknesses.includes(key) ? "weakness" : "",
  }));
  return [
    h("p", { class: "muted" }, `Against the ${fmtInt(p.peers)} other agents of service ${p.service}.`),
    table(
      [
        { key: "label", label: "Figure" },
        { key: "mine", label: "This agent", numeric: true },
        { key: "theirs", label: "Peer mean", numeric: true },
        { key: "verdict", label: "", cell: (r) => (r.verdict ? badge(r.verdict) : "") },
      ],
      rows,
    ),
  ];
}
