// Building the page: every element is made with createElement and every text with a text
// node, so nothing the API returns (span names, attributes, errors) is ever parsed as HTML.
// No string is ever handed to the HTML parser, and the Content-Security-Policy requires Trusted
// Types, so any code that tried would fail.

const SVG_NS = "http://www.w3.org/2000/svg";

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttributes(el, attrs);
  append(el, children);
  return el;
}

export function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttributes(el, attrs);
  append(el, children);
  return el;
}

function setAttributes(el, attrs) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) {
      if (typeof value !== "function") throw new TypeError(`${name} must be a function`);
      el.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      el.setAttribute("class", Array.isArray(value) ? value.filter(Boolean).join(" ") : String(value));
    } else if (name === "href") {
      el.setAttribute("href", internalHref(value));
    } else if (name === "style") {
      Object.assign(el.style, value); // CSSOM: allowed by the CSP, unlike style attributes
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
}

function internalHref(value) {
  const text = String(value);
  if (text.startsWith("#")) return text;
  throw new TypeError(`links stay inside the UI: ${text.slice(0, 40)}`);
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

// --- formatting -------------------------------------------------------------------------

const INT = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

export function fmtInt(value) {
  return value === null || value === undefined ? "—" : INT.format(value);
}

export function fmtNum(value, digits = 2) {
  if (value === null || value === undefined) return "—";
  return Number(value).toLocaleString("en-US", { maximumFractionDigits: digits });
}

export function fmtMs(value) {
  if (value === null || value === undefined) return "—";
  if (Math.abs(value) >= 10000) return `${fmtNum(value / 1000, 1)} s`;
  return `${fmtNum(value, 1)} ms`;
}

export function fmtUsd(value) {
  if (value === null || value === undefined) return "unknown";
  const digits = Math.abs(value) >= 1 ? 2 : 6;
  return `$${Number(value).toLocaleString("en-US", { minimumFractionDigits: Math.min(digits, 2), maximumFractionDigits: digits })}`;
}

export function fmtPct(value) {
  if (value === null || value === undefined) return "—";
  return `${fmtNum(value * 100, 1)}%`;
}

export function fmtSigned(value, format) {
  if (value === null || value === undefined) return "";
  if (value === 0) return "±0";
  return (value > 0 ? "+" : "−") + format(Math.abs(value));
}

export function fmtTime(iso) {
  if (!iso) return "—";
  return `${String(iso).replace("T", " ").replace(/\.\d+/, "").replace("Z", "")} UTC`;
}

// Milliseconds since the epoch of an ISO-8601 time with up to nanosecond digits, or of the
// API's bucket labels ('2026-11-27 10:00'); naive times are UTC.
export function isoMs(iso) {
  const match = /^(\d{4}-\d\d-\d\d)(?:[T ](\d\d:\d\d)(?::(\d\d))?(?:\.(\d+))?)?(Z|[+-]00:?00)?$/.exec(String(iso));
  if (!match) return NaN;
  const fraction = match[4] ? Number(`0.${match[4]}`) * 1000 : 0;
  return Date.parse(`${match[1]}T${match[2] || "00:00"}:${match[3] || "00"}Z`) + fraction;
}

// --- shared blocks ----------------------------------------------------------------------

export function message(kind, text, ...more) {
  return h("div", { class: ["msg", kind], role: kind === "error" ? "alert" : "status" }, text, ...more);
}

export function errorMessage(error) {
  if (error && error.status === 404 && error.path) {
    return message("error", `${error.path}: ${error.message}`);
  }
  const status = error && error.status ? `${error.status}: ` : "";
  return message("error", `The collector answered ${status}${error ? error.message : "an unknown error"}`);
}

export function unavailable(path) {
  return message("unavailable", `Not available on this collector (GET ${path} is not served here).`);
}

// A definition list of figures: [{label, value, text, metric}]; data-value keeps the raw number.
export function figures(items) {
  return h(
    "dl",
    { class: "figures" },
    items.map((item) =>
      h(
        "div",
        { class: ["figure", item.class] },
        h("dt", {}, item.label),
        h("dd", { "data-metric": item.metric, "data-value": item.value === null ? "" : item.value }, item.text),
      ),
    ),
  );
}

// columns: [{key, label, format(value, row), numeric, cell(row) -> Node}]
export function table(columns, rows, { caption, rowAttrs, empty = "No rows." } = {}) {
  if (!rows.length) return message("empty", empty);
  const head = h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.numeric ? "num" : null }, c.label)));
  const body = rows.map((row, index) =>
    h(
      "tr",
      rowAttrs ? rowAttrs(row, index) : {},
      columns.map((c) =>
        h(
          "td",
          { class: c.numeric ? "num" : null, "data-col": c.key },
          c.cell ? c.cell(row) : (c.format || String)(row[c.key], row),
        ),
      ),
    ),
  );
  return h(
    "div",
    { class: "table-wrap" },
    h("table", {}, caption ? h("caption", {}, caption) : null, h("thead", {}, head), h("tbody", {}, body)),
  );
}

// A table of whatever an endpoint returned: {columns, rows}, a list of objects, or an object
// holding one such list. Used for pages whose API lands later (budgets, experiments).
export function genericTable(document, caption) {
  let columns;
  let rows;
  if (document && Array.isArray(document.columns) && Array.isArray(document.rows)) {
    columns = document.columns;
    rows = document.rows.map((r) => Object.fromEntries(columns.map((c, i) => [c, r[i]])));
  } else {
    const list = Array.isArray(document)
      ? document
      : Object.values(document || {}).find((v) => Array.isArray(v)) || [];
    rows = list.filter((r) => r && typeof r === "object");
    columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  }
  return table(
    columns.map((c) => ({ key: c, label: c, format: plain })),
    rows,
    { caption },
  );
}

export function plain(value) {
  if (value === null || value === undefined) return "—";
  if (Array.isArray(value)) return value.map(plain).join(", ");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

export function badge(text, kind) {
  return h("span", { class: ["badge", kind || text] }, text);
}

// replaceChildren that, like h(), skips null/false and flattens arrays.
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}
