// The collector's JSON API, with the API key the user signed in with. The key lives in
// sessionStorage (gone when the tab closes), is sent only as an Authorization header, and is
// never put in a URL, so it reaches neither the address bar, the history nor a server log.

const KEY = "spanhouse.key";
const TENANT = "spanhouse.tenant";

export class ApiError extends Error {
  constructor(status, message, path) {
    super(message);
    this.status = status;
    this.path = path;
  }
}

export const session = {
  key: () => sessionStorage.getItem(KEY) || "",
  setKey: (key) => sessionStorage.setItem(KEY, key),
  // The tenant an operator key reads ('' = the default tenant); tenant keys read their own.
  tenant: () => sessionStorage.getItem(TENANT) || "",
  setTenant: (tenant) => (tenant ? sessionStorage.setItem(TENANT, tenant) : sessionStorage.removeItem(TENANT)),
  clear: () => {
    sessionStorage.removeItem(KEY);
    sessionStorage.removeItem(TENANT);
  },
};

export async function api(path, params = {}, { method = "GET", body } = {}) {
  const url = new URL(path, window.location.origin);
  for (const [name, value] of Object.entries(params)) {
    if (value !== "" && value !== null && value !== undefined) url.searchParams.set(name, value);
  }
  if (session.tenant() && path !== "/v1/session" && method === "GET") url.searchParams.set("tenant", session.tenant());
  const headers = { accept: "application/json" };
  if (session.key()) headers.authorization = `Bearer ${session.key()}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
      referrerPolicy: "no-referrer",
    });
  } catch (error) {
    throw new ApiError(0, `the collector did not answer (${error.message})`, path);
  }
  let document = null;
  try {
    document = await response.json();
  } catch {
    document = null;
  }
  if (!response.ok) {
    const error = new ApiError(response.status, (document && document.error) || response.statusText, path);
    if (response.status === 401) window.dispatchEvent(new CustomEvent("spanhouse:unauthorized", { detail: error }));
    throw error;
  }
  return document;
}

// {columns, rows} -> [{column: value}]
export function records(document) {
  return document.rows.map((row) => Object.fromEntries(document.columns.map((c, i) => [c, row[i]])));
}

// An endpoint that may not exist on this collector (a later feature): null on 404.
export async function optional(path, params) {
  try {
    return await api(path, params);
  } catch (error) {
    if (error.status === 404 && /not served here/.test(error.message)) return null;
    throw error;
  }
}
