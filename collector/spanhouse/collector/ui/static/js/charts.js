// Small SVG charts drawn by hand: a line over time, horizontal bars, and confidence intervals.
// Colours come from CSS classes, so they follow the light and dark themes.
import { h, svg } from "./dom.js";

const W = 600;
const H = 180;
const PAD = { left: 76, right: 12, top: 12, bottom: 28 };

function scale(domainLow, domainHigh, rangeLow, rangeHigh) {
  const span = domainHigh - domainLow || 1;
  return (v) => rangeLow + ((v - domainLow) / span) * (rangeHigh - rangeLow);
}

function figure(title, chart, note) {
  return h("figure", { class: "chart" }, h("figcaption", {}, title), chart, note ? h("p", { class: "muted small" }, note) : null);
}

// points: [{x: epoch ms, y: number|null}]
export function lineChart(title, points, format, { xLabel = (x) => new Date(x).toISOString().slice(11, 19) } = {}) {
  const shown = points.filter((p) => p.y !== null && p.y !== undefined && Number.isFinite(p.y));
  if (!shown.length) return figure(title, h("p", { class: "muted" }, "No data in this range."));
  const xs = shown.map((p) => p.x);
  const ys = shown.map((p) => p.y);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const yMax = Math.max(...ys, 0);
  const yMin = Math.min(...ys, 0);
  const x = scale(x0, x1 === x0 ? x0 + 1 : x1, PAD.left, W - PAD.right);
  const y = scale(yMin, yMax === yMin ? yMin + 1 : yMax, H - PAD.bottom, PAD.top);
  const path = shown.map((p, i) => `${i ? "L" : "M"}${x(p.x).toFixed(1)},${y(p.y).toFixed(1)}`).join(" ");
  const chart = svg(
    "svg",
    { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `${title}: ${shown.length} points, highest ${format(yMax)}` },
    svg("title", {}, title),
    svg("line", { class: "axis", x1: PAD.left, x2: W - PAD.right, y1: H - PAD.bottom, y2: H - PAD.bottom }),
    svg("line", { class: "axis", x1: PAD.left, x2: PAD.left, y1: PAD.top, y2: H - PAD.bottom }),
    svg("text", { class: "tick", x: PAD.left - 6, y: PAD.top + 4, "text-anchor": "end" }, format(yMax)),
    svg("text", { class: "tick", x: PAD.left - 6, y: H - PAD.bottom, "text-anchor": "end" }, format(yMin)),
    svg("text", { class: "tick", x: PAD.left, y: H - 8 }, xLabel(x0)),
    svg("text", { class: "tick", x: W - PAD.right, y: H - 8, "text-anchor": "end" }, xLabel(x1)),
    svg("path", { class: "line", d: path }),
    shown.map((p) =>
      svg("circle", { class: "dot", cx: x(p.x).toFixed(1), cy: y(p.y).toFixed(1), r: 2.5 }, svg("title", {}, `${xLabel(p.x)}: ${format(p.y)}`)),
    ),
  );
  return figure(title, chart);
}

// bars: [{label, value}]
export function barChart(title, bars, format) {
  const shown = bars.filter((b) => Number.isFinite(b.value)).slice(0, 40);
  if (!shown.length) return figure(title, h("p", { class: "muted" }, "Nothing to draw."));
  const row = 22;
  const height = shown.length * row + 8;
  const labelWidth = 160;
  const max = Math.max(...shown.map((b) => Math.abs(b.value)), 0) || 1;
  const x = scale(0, max, 0, W - labelWidth - 90);
  const chart = svg(
    "svg",
    { viewBox: `0 0 ${W} ${height}`, role: "img", "aria-label": title },
    svg("title", {}, title),
    shown.map((b, i) => [
      svg("text", { class: "tick", x: labelWidth - 6, y: i * row + 16, "text-anchor": "end" }, String(b.label).slice(0, 28)),
      svg("rect", { class: "bar", x: labelWidth, y: i * row + 4, width: Math.max(1, x(Math.abs(b.value))).toFixed(1), height: row - 8 }),
      svg("text", { class: "tick", x: labelWidth + x(Math.abs(b.value)) + 6, y: i * row + 16 }, format(b.value)),
    ]),
  );
  return figure(title, chart);
}

// intervals: [{label, low, high, mid}] drawn against a reference line at `reference`.
export function intervalChart(title, intervals, format, reference = 0) {
  const shown = intervals.filter((r) => Number.isFinite(r.low) && Number.isFinite(r.high));
  if (!shown.length) return figure(title, h("p", { class: "muted" }, "No intervals to draw."));
  const row = 28;
  const height = shown.length * row + 30;
  const labelWidth = 160;
  const lo = Math.min(reference, ...shown.map((r) => r.low));
  const hi = Math.max(reference, ...shown.map((r) => r.high));
  const x = scale(lo, hi === lo ? lo + 1 : hi, labelWidth + 8, W - PAD.right - 8);
  const chart = svg(
    "svg",
    { viewBox: `0 0 ${W} ${height}`, role: "img", "aria-label": title },
    svg("title", {}, title),
    svg("line", { class: "reference", x1: x(reference), x2: x(reference), y1: 0, y2: height - 24 }),
    svg("text", { class: "tick", x: x(lo), y: height - 6 }, format(lo)),
    svg("text", { class: "tick", x: x(hi), y: height - 6, "text-anchor": "end" }, format(hi)),
    shown.map((r, i) => {
      const cy = i * row + 16;
      return [
        svg("text", { class: "tick", x: labelWidth, y: cy + 4, "text-anchor": "end" }, String(r.label).slice(0, 28)),
        svg("line", { class: "interval", x1: x(r.low), x2: x(r.high), y1: cy, y2: cy }),
        Number.isFinite(r.mid) ? svg("circle", { class: "dot", cx: x(r.mid), cy, r: 4 }) : null,
        svg("title", {}, `${r.label}: ${format(r.low)} to ${format(r.high)}`),
      ];
    }),
  );
  return figure(title, chart);
}
