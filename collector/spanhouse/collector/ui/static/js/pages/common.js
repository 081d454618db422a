// Pieces several pages share: the time-range picker and the bucket width for time series.
import { h, replace } from "../dom.js";
import { RANGES } from "../route.js";

export const DEFAULT_RANGE = "24h";

export function rangeOf(view) {
  const range = view.params.get("range") || DEFAULT_RANGE;
  return range in RANGES ? range : DEFAULT_RANGE;
}

export function rangePicker(view) {
  const current = rangeOf(view);
  return h(
    "nav",
    { class: "ranges", "aria-label": "Time range" },
    Object.keys(RANGES).map((name) =>
      h(
        "a",
        {
          href: `#/${view.path.map(encodeURIComponent).join("/")}?${new URLSearchParams({ ...Object.fromEntries(view.params), range: name })}`,
          "aria-current": name === current ? "true" : null,
        },
        name === "all" ? "all time" : `last ${name}`,
      ),
    ),
  );
}

const NICE = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800];

// A bucket width giving about `count` buckets over `seconds`.
export function bucketSeconds(seconds, count = 40) {
  const wanted = (seconds || 0) / count;
  return NICE.find((n) => n >= wanted) || NICE[NICE.length - 1];
}

export function heading(view, text, ...more) {
  const h1 = view.main.querySelector("h1");
  h1.textContent = text;
  replace(view.main, h1, more);
}
