// Views live in the URL fragment: #/<page>[/<id>]?<parameters>. The server never sees it.

export function parseHash(hash) {
  const text = (hash || "").replace(/^#\/?/, "");
  const cut = text.indexOf("?");
  const pathPart = cut < 0 ? text : text.slice(0, cut);
  const query = cut < 0 ? "" : text.slice(cut + 1);
  const path = pathPart.split("/").filter(Boolean).map(decodeURIComponent);
  return { path: path.length ? path : ["overview"], params: new URLSearchParams(query) };
}

export function link(path, params = {}) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== "" && value !== null && value !== undefined) query.set(name, value);
  }
  const text = query.toString();
  return `#/${path.map(encodeURIComponent).join("/")}${text ? `?${text}` : ""}`;
}

// The `since` of a range name, as ISO-8601 UTC ('' for all time).
export const RANGES = { "15m": 15, "1h": 60, "6h": 360, "24h": 1440, "7d": 10080, "30d": 43200, all: 0 };

export function since(range) {
  const minutes = RANGES[range];
  if (!minutes) return "";
  return new Date(Date.now() - minutes * 60000).toISOString().replace("Z", "");
}
