// Runs: filters, pages, and new runs that appear without a reload (the first page polls).
import { api } from "../api.js";
import { badge, fmtInt, fmtMs, fmtUsd, h, replace, table } from "../dom.js";
import { link, since } from "../route.js";
import { heading, rangeOf, rangePicker } from "./common.js";

export const POLL_MS = 3000;
const PAGE = 25;
const FILTERS = ["agent", "status", "model", "experiment", "variant", "min_cost_usd", "min_duration_ms"];

export async function renderRuns(view) {
  const range = rangeOf(view);
  const page = Math.max(1, Number.parseInt(view.params.get("page") || "1", 10) || 1);
  const filters = Object.fromEntries(FILTERS.map((f) => [f, view.params.get(f) || ""]));
  const query = () => ({ ...filters, since: since(range), limit: PAGE, offset: (page - 1) * PAGE });
  const [listing, facets] = await Promise.all([api("/v1/runs", query()), api("/v1/runs/facets", { since: since(range) })]);
  if (!view.alive) return;
  const selected = new Set();
  const seen = new Set(listing.runs.map((r) => r.run_id));
  const holder = h("div", { id: "runs-table" });
  const pager = h("nav", { class: "pager", "aria-label": "Pages" });
  const compareButton = h("button", { type: "button", disabled: true, onclick: () => (window.location.hash = link(["compare"], { ids: [...selected].join(",") })) }, "Compare selected");

  function draw(doc, fresh = new Set()) {
    holder.replaceChildren(runTable(doc.runs, selected, fresh, () => (compareButton.disabled = selected.size < 2)));
    const pages = Math.max(1, Math.ceil(doc.total / PAGE));
    replace(
      pager,
      [page > 1 ? h("a", { href: link(["runs"], { ...filters, range, page: page - 1 }), rel: "prev" }, "← Newer") : null,
      h("span", { "data-total": doc.total }, ` Page ${page} of ${pages} · ${fmtInt(doc.total)} runs `),
      page < pages ? h("a", { href: link(["runs"], { ...filters, range, page: page + 1 }), rel: "next" }, "Older →") : null],
    );
  }

  heading(view, "Runs", rangePicker(view), filterForm(view, filters, facets, range), h("div", { class: "actions" }, compareButton), holder, pager);
  draw(listing);

  if (page === 1) {
    const timer = window.setInterval(async () => {
      if (document.visibilityState !== "visible") return;
      let doc;
      try {
        doc = await api("/v1/runs", query());
      } catch {
        return; // the next poll tries again; a lasting failure shows on the next navigation
      }
      if (!view.alive) return;
      const fresh = new Set(doc.runs.map((r) => r.run_id).filter((id) => !seen.has(id)));
      for (const id of fresh) seen.add(id);
      draw(doc, fresh);
      if (fresh.size) {
        document.getElementById("announce").textContent = `${fresh.size} new run${fresh.size > 1 ? "s" : ""}`;
      }
    }, POLL_MS);
    view.onLeave(() => window.clearInterval(timer));
  }
}

function runTable(runs, selected, fresh, onSelect) {
  return table(
    [
      {
        key: "select",
        label: "Pick",
        cell: (r) =>
          h("input", {
            type: "checkbox",
            "aria-label": `Select run ${r.run_id} to compare`,
            checked: selected.has(r.run_id),
            onchange: (event) => {
              if (event.target.checked) selected.add(r.run_id);
              else selected.delete(r.run_id);
              onSelect();
            },
          }),
      },
      { key: "started_at", label: "Started (UTC)", format: (v) => String(v).replace("T", " ").slice(0, 23) },
      { key: "agent", label: "Agent", cell: (r) => h("a", { href: link(["runs", r.run_id]) }, r.agent || "(unnamed)") },
      { key: "status", label: "Status", cell: (r) => badge(r.status) },
      { key: "duration_ms", label: "Duration", numeric: true, format: fmtMs },
      { key: "steps", label: "Steps", numeric: true, format: fmtInt },
      { key: "tokens", label: "Tokens", numeric: true, format: fmtInt },
      { key: "cost_usd", label: "Cost", numeric: true, format: fmtUsd },
      { key: "models", label: "Models", format: (v) => v.join(", ") },
      { key: "variant", label: "Variant", format: (v, r) => (r.experiment ? `${r.experiment}: ${v}` : "") },
      { key: "error_type", label: "Error", format: (v) => v || "" },
    ],
    runs,
    {
      caption: "Runs, newest first",
      empty: "No runs match these filters.",
      rowAttrs: (r) => ({ "data-run": r.run_id, class: fresh.has(r.run_id) ? "new" : null }),
    },
  );
}

function filterForm(view, filters, facets, range) {
  const choose = (name, label, values) =>
    h(
      "label",
      {},
      label,
      h(
        "select",
        { name },
        h("option", { value: "" }, "any"),
        values.map((v) => h("option", { value: v, selected: v === filters[name] }, v)),
      ),
    );
  const facet = (name) => {
    const values = facets[name].map((f) => f.value);
    if (filters[name] && !values.includes(filters[name])) values.unshift(filters[name]);
    return values;
  };
  const form = h(
    "form",
    {
      class: "filters",
      "aria-label": "Filters",
      onsubmit: (event) => {
        event.preventDefault();
        const data = new FormData(form);
        const chosen = Object.fromEntries(FILTERS.map((f) => [f, String(data.get(f) || "").trim()]));
        window.location.hash = link(["runs"], { ...chosen, range, page: "" });
      },
    },
    choose("agent", "Agent", facet("agent")),
    choose("status", "Status", ["ok", "error", "active"]),
    choose("model", "Model", facet("model")),
    choose("experiment", "Experiment", facet("experiment")),
    choose("variant", "Variant", facet("variant")),
    h("label", {}, "Min cost (USD)", h("input", { name: "min_cost_usd", type: "number", min: 0, step: "any", value: filters.min_cost_usd })),
    h("label", {}, "Min duration (ms)", h("input", { name: "min_duration_ms", type: "number", min: 0, step: "any", value: filters.min_duration_ms })),
    h("button", { type: "submit" }, "Apply"),
    h("a", { href: link(["runs"], { range }) }, "Clear"),
  );
  return form;
}

