// Compare runs: a structural diff. Steps are aligned across the runs (by kind, name and
// occurrence); each aligned step is marked same, changed, added or removed against the first
// run, with its duration, token and cost differences.
import { api } from "../api.js";
import { badge, fmtInt, fmtMs, fmtSigned, fmtUsd, h, message, table } from "../dom.js";
import { link } from "../route.js";
import { heading } from "./common.js";

export async function renderCompare(view) {
  const ids = (view.params.get("ids") || "").split(",").map((x) => x.trim()).filter(Boolean);
  const form = idsForm(ids);
  if (ids.length < 2) {
    heading(view, "Compare runs", form, message("empty", "Give two or more run ids (pick them on the Runs page, or paste them above)."));
    return;
  }
  const diff = await api("/v1/compare", { ids: ids.join(",") });
  if (!view.alive) return;
  const runs = diff.runs;
  heading(
    view,
    "Compare runs",
    form,
    table(
      [
        { key: "id", label: "Run", cell: (r) => h("a", { href: link(["runs", r.id]) }, r.id) },
        { key: "agent", label: "Agent" },
        { key: "outcome", label: "Outcome", cell: (r) => badge(r.outcome) },
        { key: "duration_ms", label: "Duration", numeric: true, format: fmtMs },
        { key: "steps", label: "Steps", numeric: true, format: fmtInt },
        { key: "input_tokens", label: "Input tokens", numeric: true, format: fmtInt },
        { key: "output_tokens", label: "Output tokens", numeric: true, format: fmtInt },
        { key: "cost_usd", label: "Cost", numeric: true, format: fmtUsd },
        { key: "models", label: "Models", format: (v) => v.join(", ") },
        { key: "errors", label: "Errors", format: (v) => v.join(", ") || "none" },
      ],
      runs,
      { caption: "Runs (the first is the base)" },
    ),
    h("h2", {}, "What differs"),
    diff.differences.length ? h("ul", { class: "differences" }, diff.differences.map((d) => h("li", {}, d))) : message("empty", "The runs do not differ."),
    h("h2", {}, "Step by step"),
    stepTable(runs, diff.steps),
  );
}

function stepTable(runs, steps) {
  const columns = [
    { key: "step", label: "Step", cell: (r) => [h("span", { class: "kind" }, r.kind), " ", r.step, r.occurrence ? ` #${r.occurrence + 1}` : ""] },
  ];
  runs.forEach((run, i) => {
    const cellOf = (r, value) =>
      r.span_ids[i] ? h("a", { href: link(["runs", run.id], { span: r.span_ids[i] }) }, value) : h("span", { class: "muted" }, "—");
    columns.push({
      key: `run${i}`,
      label: i === 0 ? `Base ${run.id.slice(0, 8)}` : `Run ${run.id.slice(0, 8)}`,
      cell: (r) => [
        i ? badge(r.change[i], `change-${r.change[i]}`) : null,
        " ",
        cellOf(r, r.duration_ms[i] === null ? "—" : `${fmtMs(r.duration_ms[i])} · ${fmtInt(r.tokens[i])} tok · ${fmtUsd(r.cost_usd[i])}`),
        r.failed[i] ? h("span", { class: "badge error" }, "failed") : null,
      ],
    });
    if (i) {
      columns.push(
        { key: `d_ms${i}`, label: "Δ duration", numeric: true, cell: (r) => delta(r.deltas[i].duration_ms, fmtMs) },
        { key: `d_tok${i}`, label: "Δ tokens", numeric: true, cell: (r) => delta(r.deltas[i].tokens, fmtInt) },
        { key: `d_usd${i}`, label: "Δ cost", numeric: true, cell: (r) => delta(r.deltas[i].cost_usd, fmtUsd) },
      );
    }
  });
  return table(columns, steps, {
    caption: "Aligned steps",
    empty: "Neither run has steps.",
    rowAttrs: (r) => ({
      "data-step": `${r.kind}:${r.step}:${r.occurrence}`,
      "data-change": r.change.slice(1).join(","),
      class: `change-${r.change.slice(1).find((c) => c !== "same") || "same"}`,
    }),
  });
}

function delta(value, format) {
  if (value === undefined || value === null) return "";
  return h("span", { class: value > 0 ? "up" : value < 0 ? "down" : "flat" }, fmtSigned(value, format));
}

function idsForm(ids) {
  const input = h("input", { id: "compare-ids", name: "ids", size: 60, value: ids.join(","), placeholder: "run id, run id, …" });
  return h(
    "form",
    {
      class: "filters",
      onsubmit: (event) => {
        event.preventDefault();
        window.location.hash = link(["compare"], { ids: input.value.replace(/\s+/g, "") });
      },
    },
    h("label", { for: "compare-ids" }, "Run ids"),
    input,
    h("button", { type: "submit" }, "Compare"),
  );
}
