// One run: the waterfall (the tree, indented, with bars on a shared time axis) with the
// critical path and bottlenecks marked, and the chosen step's model, five token buckets,
// cost, errors, warnings, scores and captured content.
import { api } from "../api.js";
import { badge, errorMessage, figures, fmtInt, fmtMs, fmtNum, fmtPct, fmtUsd, h, isoMs, message, plain, replace, table } from "../dom.js";
import { link } from "../route.js";
import { heading } from "./common.js";

// Attributes that hold captured content (prompts, completions, tool arguments and results).
const CONTENT_KEYS = [
  "gen_ai.system_instructions",
  "gen_ai.input.messages",
  "gen_ai.output.messages",
  "gen_ai.tool.call.arguments",
  "gen_ai.tool.call.result",
  "gen_ai.prompt",
  "gen_ai.completion",
  "input.value",
  "output.value",
];

export async function renderRun(view) {
  const id = view.path[1];
  const trace = await api("/v1/trace", { id });
  const details = await api("/v1/runs/steps", { trace_id: trace.summary.trace_id });
  if (!view.alive) return;
  const facts = new Map(details.steps.map((s) => [s.span_id, s]));
  const scores = details.scores;
  const spans = trace.spans;
  const chosenId = view.params.get("span") || spans[0].span_id;
  const s = trace.summary;
  document.title = `Run ${id} · spanhouse`;
  const runScores = scores.filter((sc) => !sc.span_id);
  const detail = h("section", { id: "span-detail", class: "detail", "aria-live": "polite" });
  heading(
    view,
    `Run ${id}`,
    h(
      "p",
      {},
      `Agent `,
      h("strong", {}, s.agent || "(unnamed)"),
      ` · trace ${s.trace_id} · `,
      badge(s.outcome),
      " · ",
      h("a", { href: link(["compare"], { ids: `${id},` }) }, "Compare with another run"),
    ),
    figures([
      { label: "Duration", metric: "duration_ms", value: s.duration_ms, text: fmtMs(s.duration_ms) },
      { label: "Steps", metric: "steps", value: s.steps, text: fmtInt(s.steps) },
      { label: "Input tokens", metric: "input_tokens", value: s.input_tokens, text: fmtInt(s.input_tokens) },
      { label: "Output tokens", metric: "output_tokens", value: s.output_tokens, text: fmtInt(s.output_tokens) },
      { label: "Cost", metric: "cost_usd", value: s.cost_usd, text: fmtUsd(s.cost_usd) },
      { label: "Models", metric: "models", value: s.models.join(","), text: s.models.join(", ") || "—" },
    ]),
    runScores.length ? h("p", {}, "Run scores: ", runScores.map((sc) => scoreText(sc)).join("; ")) : null,
    trace.bottlenecks.length
      ? h(
          "p",
          { class: "bottlenecks" },
          "Bottlenecks: ",
          trace.bottlenecks.map((b, i) => [i ? ", " : "", h("a", { href: link(["runs", id], { span: b.span_id }) }, b.step), ` (${fmtMs(b.critical_ms)}, ${fmtPct(b.share)})`]),
        )
      : null,
    trace.errors.length ? message("error", `Errors: ${trace.errors.map((e) => `${e.step}: ${e.error_type}: ${e.message}`).join("; ")}`) : null,
    h("div", { class: "run-layout" }, waterfall(view, id, trace, chosenId), detail),
  );
  const chosen = spans.find((x) => x.span_id === chosenId) || spans[0];
  if (view.params.get("span")) {
    const row = view.main.querySelector(`li[data-span="${CSS.escape(chosen.span_id)}"] a`);
    if (row) row.focus({ preventScroll: false });
  }
  await showSpan(view, detail, trace, chosen, facts.get(chosen.span_id), scores);
}

function waterfall(view, id, trace, chosenId) {
  const spans = trace.spans;
  const starts = spans.map((x) => isoMs(x.start));
  const origin = Math.min(...starts);
  const end = Math.max(...spans.map((x, i) => starts[i] + x.duration_ms));
  const total = end - origin || 1;
  const critical = new Set(trace.critical_path);
  const hot = new Set(trace.bottlenecks.map((b) => b.span_id));
  const depth = new Map();
  for (const x of spans) depth.set(x.span_id, x.parent_span_id && depth.has(x.parent_span_id) ? depth.get(x.parent_span_id) + 1 : 0);
  const rows = spans.map((x, i) => {
    const left = ((starts[i] - origin) / total) * 100;
    const width = Math.max((x.duration_ms / total) * 100, 0.3);
    const chosen = x.span_id === chosenId;
    return h(
      "li",
      {
        role: "treeitem",
        "aria-level": depth.get(x.span_id) + 1,
        "aria-selected": chosen ? "true" : "false",
        "data-span": x.span_id,
        "data-offset-ms": (starts[i] - origin).toFixed(3),
        class: ["wf-row", critical.has(x.span_id) && "critical", hot.has(x.span_id) && "bottleneck", x.status === "Error" && "failed", chosen && "chosen"],
      },
      h(
        "a",
        { href: link(["runs", id], { span: x.span_id }), class: "wf-label", style: { paddingLeft: `${depth.get(x.span_id) * 1.1 + 0.3}rem` }, tabindex: chosen ? "0" : "-1" },
        h("span", { class: "kind" }, x.step_kind || "span"),
        " ",
        x.step,
        hot.has(x.span_id) ? h("span", { class: "marker", title: "bottleneck" }, " ◆") : null,
      ),
      h(
        "span",
        { class: "wf-track", "aria-hidden": "true" },
        h("span", { class: "wf-bar", style: { left: `${left}%`, width: `${Math.min(width, 100 - left)}%` } }),
      ),
      h("span", { class: "wf-ms num" }, fmtMs(x.duration_ms)),
    );
  });
  const list = h("ul", { role: "tree", class: "waterfall", "aria-label": "Waterfall: spans in the order they ran, nested by parent" }, rows);
  list.addEventListener("keydown", (event) => {
    if (!["ArrowDown", "ArrowUp", "Home", "End"].includes(event.key)) return;
    const links = [...list.querySelectorAll("a.wf-label")];
    const at = links.indexOf(document.activeElement);
    const next = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: links.length - 1 }[event.key];
    if (next >= 0 && next < links.length) {
      event.preventDefault();
      links[next].focus();
    }
  });
  return h(
    "section",
    { class: "wf" },
    h("h2", {}, "Waterfall"),
    h("p", { class: "legend muted small" }, h("span", { class: "swatch critical" }), " on the critical path ", h("span", { class: "swatch bottleneck" }), " bottleneck ", h("span", { class: "swatch failed" }), " failed"),
    list,
  );
}

async function showSpan(view, detail, trace, span, fact, scores) {
  const total = trace.summary.duration_ms;
  const own = scores.filter((sc) => sc.span_id === span.span_id);
  const buckets = fact && fact.model_call
    ? [
        ["Input (not cached)", fact.input_tokens],
        ["Cached input", fact.cached_input_tokens],
        ["Cache write", fact.cache_write_tokens],
        ["Output", fact.output_tokens],
        ["Reasoning", fact.reasoning_tokens],
      ]
    : null;
  replace(
    detail,
    h("h2", {}, `Step ${span.step}`),
    h(
      "dl",
      { class: "facts" },
      fact_("Span", span.name),
      fact_("Kind", span.step_kind || "span"),
      fact_("Agent", span.agent || "—"),
      fact_("Started", span.start),
      fact_("Duration", fmtMs(span.duration_ms)),
      fact_("Critical path", `${fmtMs(span.critical_ms)} (${fmtPct(span.critical_share)} of ${fmtMs(total)})`),
      fact_("Status", span.status),
      fact && (fact.request_model || fact.response_model) ? fact_("Model", modelText(fact)) : null,
      fact && fact.provider ? fact_("Provider", fact.provider) : null,
      fact && fact.finish_reason ? fact_("Finish reason", fact.finish_reason) : null,
      fact && fact.model_call ? fact_("Cost", fmtUsd(fact.cost_usd)) : null,
      fact && fact.reported_cost_usd !== null && fact.reported_cost_usd !== undefined ? fact_("Reported cost", fmtUsd(fact.reported_cost_usd)) : null,
      fact && fact.variant ? fact_("Experiment", `${fact.experiment}: ${fact.variant}`) : null,
      span.quality !== null ? fact_("Quality", fmtNum(span.quality, 3)) : null,
      span.confidence !== null ? fact_("Confidence", fmtNum(span.confidence, 3)) : null,
    ),
    span.status === "Error" ? message("error", `${span.error_type}: ${span.error_message}`) : null,
    span.warnings.length ? message("warning", `Warnings: ${span.warnings.join(", ")}`) : null,
    buckets
      ? table(
          [
            { key: 0, label: "Tokens" },
            { key: 1, label: "Count", numeric: true, format: fmtInt },
          ],
          buckets,
          { caption: "Token buckets (they never overlap)", rowAttrs: (r) => ({ "data-bucket": r[0] }) },
        )
      : null,
    own.length ? h("div", {}, h("h3", {}, "Scores"), h("ul", {}, own.map((sc) => h("li", {}, scoreText(sc))))) : null,
    h("div", { id: "span-raw" }, h("p", { class: "muted" }, "Loading attributes…")),
  );
  if (!span.span_id) return;
  let raw;
  try {
    raw = await api("/v1/runs/span", { trace_id: trace.summary.trace_id, span_id: span.span_id });
  } catch (error) {
    if (view.alive) detail.querySelector("#span-raw").replaceChildren(errorMessage(error));
    return;
  }
  if (!view.alive) return;
  const content = CONTENT_KEYS.filter((k) => k in raw.attributes);
  replace(
    detail.querySelector("#span-raw"),
    h("h3", {}, "Captured content"),
    content.length
      ? content.map((k) => h("div", { class: "content" }, h("h4", {}, k), h("pre", { "data-content": k }, pretty(raw.attributes[k]))))
      : h("p", { class: "muted" }, "No content was captured for this step (capture is off unless the application turns it on)."),
    h("h3", {}, "Attributes"),
    table(
      [
        { key: "key", label: "Key" },
        { key: "value", label: "Value", cell: (r) => h("code", {}, r.value) },
      ],
      Object.entries(raw.attributes)
        .filter(([k]) => !CONTENT_KEYS.includes(k))
        .map(([key, value]) => ({ key, value })),
      { empty: "No attributes." },
    ),
    raw.events.length
      ? [h("h3", {}, "Events"), table([{ key: "at", label: "At" }, { key: "name", label: "Name" }, { key: "attributes", label: "Attributes", format: plain }], raw.events)]
      : null,
  );
}

function fact_(label, value) {
  return [h("dt", {}, label), h("dd", {}, value)];
}

function modelText(fact) {
  if (fact.response_model && fact.request_model && fact.response_model !== fact.request_model) {
    return `${fact.response_model} (asked for ${fact.request_model})`;
  }
  return fact.response_model || fact.request_model;
}

function scoreText(sc) {
  const parts = [`${sc.name} ${fmtNum(sc.value, 3)}`];
  if (sc.source) parts.push(`by ${sc.source}`);
  if (sc.comment) parts.push(`“${sc.comment}”`);
  return parts.join(" ");
}

function pretty(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
