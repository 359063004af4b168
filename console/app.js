// The console's shell: sign-in, the hash router (#/clusters/<id>/...), the navigation,
// the error banner and the auto-refresh timers of the page on screen.
import { ApiError, call, secret, signIn, signOut } from "./api.js";
import { h, replace } from "./dom.js";
import { clusterPage } from "./page_cluster.js";
import { clustersPage } from "./page_clusters.js";
import { jobPage } from "./page_job.js";
import { metricsPage } from "./page_metrics.js";
import { nodesPage } from "./page_nodes.js";
import { resourcePage } from "./page_resource.js";
import { resourcesPage } from "./page_resources.js";
import { settingsPage } from "./page_settings.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const banner = document.getElementById("banner");
const signOutButton = document.getElementById("sign-out");

// The resources page keeps its filters in a query after the path: it reads them itself.
const routes = [
  [/^#\/nodes$/, nodesPage],
  [/^#\/clusters\/([^/]+)\/resources\/([^/?]+)\/([^/?]+)$/, resourcePage],
  [/^#\/clusters\/([^/]+)\/resources(?:\?.*)?$/, resourcesPage],
  [/^#\/clusters\/([^/]+)\/jobs\/([^/]+)$/, jobPage],
  [/^#\/clusters\/([^/]+)\/metrics$/, metricsPage],
  [/^#\/clusters\/([^/]+)\/settings$/, settingsPage],
  [/^#\/clusters\/([^/]+)$/, clusterPage],
  [/^#?\/?$/, clustersPage],
];

/** Set per page: its refresh timers, stopped when the next page renders. */
let timers = [];
let generation = 0;

/** Shows an error above the page (null hides it). */
export function showError(error) {
  if (!error) {
    banner.hidden = true;
    return;
  }
  banner.hidden = false;
  banner.className = `banner banner-${error.kind ?? "http"}`;
  replace(banner, error.message);
  if (error.kind === "unauthorized") {
    signOut();
    render();
  }
}

/** What a page may use: its route parameters, a refresh timer, the error banner. */
function pageContext(params, mine) {
  return {
    params,
    /** Runs `refresh` every `ms` while this page is on screen and the tab is visible. */
    every(ms, refresh) {
      const timer = setInterval(async () => {
        if (mine !== generation || document.hidden) return;
        try {
          await refresh();
          showError(null);
        } catch (error) {
          if (mine === generation) showError(error);
        }
      }, ms);
      timers.push(timer);
    },
    current: () => mine === generation,
    showError,
  };
}

function navigation(clusterId) {
  const here = (location.hash || "#/").split("?")[0];
  const link = (href, text) => h("a", { href, "aria-current": here === href ? "page" : undefined }, text);
  const items = [link("#/", "Clusters"), link("#/nodes", "Nodes")];
  if (clusterId) {
    const base = `#/clusters/${encodeURIComponent(clusterId)}`;
    items.push(
      h("span", { class: "nav-cluster mono", title: `cluster ${clusterId}` }, clusterId.slice(0, 8)),
      link(base, "Jobs & machines"),
      link(`${base}/resources`, "Resources"),
      link(`${base}/metrics`, "Metrics"),
      link(`${base}/settings`, "Settings"),
    );
  }
  replace(nav, items);
}

function signInPage(message) {
  replace(nav);
  signOutButton.hidden = true;
  const input = h("input", {
    type: "password",
    id: "secret",
    name: "secret",
    autocomplete: "current-password",
    required: true,
    placeholder: "sk_management_…",
  });
  const error = h("p", { class: "form-error", role: "alert", id: "sign-in-error" }, message ?? "");
  const button = h("button", { type: "submit" }, "Sign in");
  const form = h(
    "form",
    {
      class: "card sign-in",
      onsubmit: async (event) => {
        event.preventDefault();
        button.disabled = true;
        replace(error, "");
        try {
          const value = input.value.trim();
          await call("GET", "/clusters", { secretOverride: value });
          signIn(value);
          showError(null);
          location.hash = "#/";
          render();
        } catch (failure) {
          replace(error, failure.message);
        } finally {
          button.disabled = false;
        }
      },
    },
    h("h1", {}, "Sign in"),
    h("p", { class: "muted" }, "Enter the server's management secret. It stays in this tab's session storage and is sent with each request; closing the tab forgets it."),
    h("label", { for: "secret" }, "Management secret"),
    input,
    button,
    error,
  );
  replace(main, form);
  input.focus();
}

export async function render() {
  generation += 1;
  const mine = generation;
  for (const timer of timers) clearInterval(timer);
  timers = [];
  if (!secret()) {
    signInPage();
    return;
  }
  signOutButton.hidden = false;
  const hash = location.hash || "#/";
  for (const [pattern, page] of routes) {
    const match = hash.match(pattern);
    if (!match) continue;
    const params = match.slice(1).map(decodeURIComponent);
    navigation(params[0]);
    const context = pageContext(params, mine);
    try {
      await page(main, context);
      if (mine === generation) showError(null);
    } catch (error) {
      if (mine !== generation) return;
      if (!(error instanceof ApiError)) console.error(error);
      showError(error);
      if (error.kind !== "unauthorized") replace(main, h("p", { class: "empty" }, "This page could not be loaded. ", h("a", { href: location.hash }, "Try again"), "."));
    }
    return;
  }
  navigation();
  replace(main, h("p", { class: "empty" }, "No such page. ", h("a", { href: "#/" }, "Back to the clusters"), "."));
}

signOutButton.addEventListener("click", () => {
  signOut();
  showError(null);
  location.hash = "#/";
  render();
});
window.addEventListener("hashchange", () => render());
render();
