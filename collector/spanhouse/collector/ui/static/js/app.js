// The UI's shell: sign-in, routing on the URL fragment (#/runs?agent=x: every view is a link),
// and one page at a time in <main>. Pages are functions render(view) that fill view.main.
import { ApiError, api, session } from "./api.js";
import { errorMessage, h, message, replace } from "./dom.js";
import { renderAgent, renderAgents } from "./pages/agents.js";
import { renderCompare } from "./pages/compare.js";
import { renderCosts } from "./pages/costs.js";
import { renderExperiments } from "./pages/experiments.js";
import { renderOverview } from "./pages/overview.js";
import { renderRun } from "./pages/run.js";
import { renderRuns } from "./pages/runs.js";
import { renderSql } from "./pages/sql.js";
import { link, parseHash } from "./route.js";

const PAGES = {
  overview: { title: "Overview", render: renderOverview },
  agents: { title: "Agents", render: (view) => (view.path[1] ? renderAgent(view) : renderAgents(view)) },
  runs: { title: "Runs", render: (view) => (view.path[1] ? renderRun(view) : renderRuns(view)) },
  compare: { title: "Compare runs", render: renderCompare },
  costs: { title: "Costs", render: renderCosts },
  experiments: { title: "Experiments", render: renderExperiments },
  sql: { title: "SQL", render: renderSql },
};

const main = document.getElementById("main");
let current = null; // the view on screen: {page, cleanups, alive}
let who = null; // GET /v1/session's answer once signed in

async function route() {
  if (current) {
    current.alive = false;
    for (const cleanup of current.cleanups) cleanup();
  }
  const hash = window.location.hash;
  const { path, params } = parseHash(hash);
  if (!who) {
    await start();
    return;
  }
  const page = PAGES[path[0]];
  const previous = current ? current.page : null; // null on the first view: focus stays at the top
  const view = {
    page: path[0],
    path,
    params,
    main,
    who,
    cleanups: [],
    alive: true,
    onLeave(fn) {
      this.cleanups.push(fn);
    },
    // Change this view's query parameters (a new history entry, so Back works).
    go(changes) {
      const merged = Object.fromEntries(params.entries());
      Object.assign(merged, changes);
      window.location.hash = link(path, merged);
    },
  };
  current = view;
  markNav(path[0]);
  main.dataset.state = "loading";
  if (!page) {
    main.replaceChildren(h("h1", { tabindex: "-1" }, "Not found"), message("error", `There is no page “${path[0]}”.`));
    settle("ready", hash);
    return;
  }
  document.title = `${page.title} · spanhouse`;
  main.replaceChildren(h("h1", { tabindex: "-1" }, page.title), h("p", { class: "muted" }, "Loading…"));
  if (previous !== null && previous !== view.page) main.querySelector("h1").focus({ preventScroll: true });
  try {
    await page.render(view);
    if (view.alive) settle("ready", hash);
  } catch (error) {
    if (!view.alive) return;
    if (error instanceof ApiError && error.status === 401) return; // the sign-in form is showing
    main.append(errorMessage(error));
    settle("error", hash);
    if (!(error instanceof ApiError)) console.warn(error);
  }
}

// What is on screen and for which link: the browser tests (and the load-time benchmark) wait
// for data-shown to equal the current fragment with a final state.
function settle(state, hash) {
  main.dataset.state = state;
  main.dataset.shown = hash;
  performance.mark(`spanhouse:${state}`, { detail: hash });
}

function markNav(page) {
  for (const a of document.querySelectorAll("#nav a")) {
    if (a.dataset.page === page) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

async function start() {
  let answer;
  try {
    answer = await api("/v1/session");
  } catch (error) {
    if (error.status === 401) return; // signIn() is on screen
    main.replaceChildren(h("h1", { tabindex: "-1" }, "spanhouse"), errorMessage(error));
    settle("error", window.location.hash);
    return;
  }
  if (answer.keys_required && !answer.signed_in) {
    signIn();
    return;
  }
  who = answer;
  showWho();
  await route();
}

function showWho() {
  const box = document.getElementById("who");
  const parts = [];
  if (!who.keys_required) parts.push(h("span", {}, "open collector (no API keys)"));
  else if (who.operator) {
    const input = h("input", { id: "tenant", size: 12, value: session.tenant(), placeholder: "default", "aria-label": "Tenant to read" });
    parts.push(
      h(
        "form",
        {
          class: "tenant",
          onsubmit: (event) => {
            event.preventDefault();
            session.setTenant(input.value.trim());
            route();
          },
        },
        h("label", { for: "tenant" }, "operator, tenant "),
        input,
      ),
    );
  } else parts.push(h("span", {}, "tenant ", h("strong", { "data-tenant": who.tenant }, who.tenant)));
  if (who.keys_required) {
    parts.push(
      h(
        "button",
        {
          type: "button",
          class: "link",
          onclick: () => {
            session.clear();
            who = null;
            box.replaceChildren();
            signIn();
          },
        },
        "Sign out",
      ),
    );
  }
  box.replaceChildren(...parts);
}

function signIn(problem) {
  if (current) current.alive = false;
  who = null;
  document.title = "Sign in · spanhouse";
  markNav("");
  const input = h("input", { id: "api-key", type: "password", autocomplete: "off", required: true, spellcheck: "false" });
  const form = h(
    "form",
    {
      class: "signin",
      onsubmit: async (event) => {
        event.preventDefault();
        session.setKey(input.value.trim());
        try {
          who = await api("/v1/session");
        } catch (error) {
          session.clear();
          signIn(error.status === 401 ? "That API key is not valid." : error.message);
          return;
        }
        if (!who.signed_in) {
          who = null;
          signIn("Enter an API key.");
          return;
        }
        showWho();
        await route();
      },
    },
    h("label", { for: "api-key" }, "API key"),
    input,
    h("button", { type: "submit" }, "Sign in"),
  );
  replace(
    main,
    h("h1", { tabindex: "-1" }, "Sign in"),
    h("p", {}, "This collector needs an API key. It is kept for this tab only and sent in a header, never in a link."),
    problem ? message("error", problem) : null,
    form,
  );
  settle("signin", window.location.hash);
  input.focus();
}

window.addEventListener("spanhouse:unauthorized", () => {
  if (main.dataset.state !== "signin") signIn(session.key() ? "The API key was refused; sign in again." : null);
});
window.addEventListener("hashchange", route);
route();
