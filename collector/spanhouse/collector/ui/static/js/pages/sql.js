// SQL: a read-only console in the key's tenant scope, results as a table and a simple chart.
// The query lives in the link (#/sql?q=...), so a result can be shared; running it again is
// as safe as the first time: the collector checks and scopes every query.
import { api, records } from "../api.js";
import { barChart, lineChart } from "../charts.js";
import { fmtNum, h, isoMs, message, plain, replace, table } from "../dom.js";
import { link } from "../route.js";
import { heading } from "./common.js";

const EXAMPLE = "SELECT AgentName, count() AS steps, sum(TotalTokens) AS tokens\nFROM agent_steps\nGROUP BY AgentName\nORDER BY steps DESC";
const MAX_SHOWN = 1000;

export async function renderSql(view) {
  const query = view.params.get("q") || "";
  const editor = h("textarea", { id: "sql-query", rows: 7, cols: 80, spellcheck: "false", "aria-describedby": "sql-scope" });
  editor.value = query || EXAMPLE;
  const run = () => {
    const text = editor.value.trim();
    if (text === query) window.dispatchEvent(new HashChangeEvent("hashchange"));
    else window.location.hash = link(["sql"], { q: text });
  };
  editor.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      run();
    }
  });
  const form = h(
    "form",
    {
      class: "sql",
      onsubmit: (event) => {
        event.preventDefault();
        run();
      },
    },
    h("label", { for: "sql-query" }, "Query"),
    editor,
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Run"), h("span", { class: "muted small" }, " Ctrl+Enter runs it")),
  );
  const scope = view.who.keys_required
    ? view.who.operator
      ? "Operator key: reads every tenant, read-only."
      : `Reads tenant ${view.who.tenant} only, read-only: tables with a Tenant column, filtered to its rows.`
    : "Open collector: read-only queries on every table.";
  const output = h("div", { id: "sql-output" });
  heading(view, "SQL", h("p", { id: "sql-scope", class: "muted" }, scope), form, output);
  if (!query) return;
  const started = performance.now();
  let result;
  try {
    result = await api("/v1/sql", {}, { method: "POST", body: { query } });
  } catch (error) {
    if (!view.alive) return;
    output.replaceChildren(message("error", `The query failed (${error.status || "no answer"}): ${error.message}`));
    return;
  }
  if (!view.alive) return;
  const rows = records(result);
  const shown = rows.slice(0, MAX_SHOWN);
  replace(
    output,
    h("p", { class: "muted small", "data-rows": rows.length }, `${rows.length} rows in ${fmtNum(performance.now() - started, 0)} ms${rows.length > MAX_SHOWN ? `, the first ${MAX_SHOWN} shown` : ""}.`),
    chartOf(result.columns, shown),
    table(result.columns.map((c) => ({ key: c, label: c, format: plain, numeric: shown.length && typeof shown[0][c] === "number" })), shown, { empty: "The query returned no rows." }),
  );
}

// A line when the first column is a time, bars when it is a label; of the first numeric column.
function chartOf(columns, rows) {
  if (rows.length < 2 || columns.length < 2) return null;
  const [first] = columns;
  const value = columns.slice(1).find((c) => rows.every((r) => typeof r[c] === "number"));
  if (!value) return null;
  const format = (v) => fmtNum(v, 3);
  if (rows.every((r) => typeof r[first] === "string" && Number.isFinite(isoMs(r[first])))) {
    return lineChart(`${value} by ${first}`, rows.map((r) => ({ x: isoMs(r[first]), y: r[value] })), format);
  }
  return barChart(`${value} by ${first}`, rows.map((r) => ({ label: plain(r[first]), value: r[value] })), format);
}
