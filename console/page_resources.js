// #/clusters/<id>/resources?kind=&state=&namespace=&cursor=&page= : a cluster's
// resources, counted by state per kind, and listed a page at a time by the route's
// cursor. The filters and the page are in the address, so a page can be linked and the
// browser's back button goes to the previous page.
import { api } from "./api.js";
import { ago, badge, empty, h, plural, replace, table, until } from "./dom.js";

const refreshMs = 5000;
/** Finding kinds reads the cluster's newest 100 jobs: done less often than the rest. */
const kindsRefreshMs = 15_000;
const pageSize = 50;
export const resourceStates = ["scheduled", "pending", "synced", "failed", "degraded", "expired", "deleted"];
/** The server's rule for a kind or a namespace (docs/http-api.md, POST /resources). */
const namePattern = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
const servicePrefix = "resources.";

/** The filters and the page of the address. */
export function resourceQuery(hash = location.hash) {
  const search = new URLSearchParams(hash.split("?")[1] ?? "");
  return {
    kind: search.get("kind") ?? "",
    state: search.get("state") ?? "",
    namespace: search.get("namespace") ?? "",
    cursor: search.get("cursor") ?? "",
    page: Math.max(1, Number.parseInt(search.get("page") ?? "1", 10) || 1),
  };
}

/** The address of the resources page of `clusterId` with `query` (empty values left out). */
export function resourcesHref(clusterId, query = {}) {
  const search = new URLSearchParams();
  for (const name of ["kind", "state", "namespace", "cursor"]) if (query[name]) search.set(name, query[name]);
  if (query.cursor && query.page > 1) search.set("page", String(query.page));
  const text = search.toString();
  return `#/clusters/${encodeURIComponent(clusterId)}/resources${text ? `?${text}` : ""}`;
}

export function resourceHref(clusterId, resource) {
  return `#/clusters/${encodeURIComponent(clusterId)}/resources/${encodeURIComponent(resource.kind)}/${encodeURIComponent(resource.id)}`;
}

/**
 * The kinds the console can name: there is no route listing them, so they come from the
 * cluster's services called resources.<kind> (controllers that polled, work jobs among
 * the newest 100) and from the resources on the page shown.
 */
export function kindsOf(cluster, resources = []) {
  const kinds = new Set();
  const add = (service) => {
    if (service?.startsWith(servicePrefix)) kinds.add(service.slice(servicePrefix.length));
  };
  for (const definition of cluster.definitions ?? []) add(definition.name);
  for (const machine of cluster.machines ?? []) add(machine.pool);
  for (const job of cluster.jobs ?? []) add(job.service);
  for (const resource of resources) kinds.add(resource.kind);
  return [...kinds].sort();
}

function total(counts) {
  return resourceStates.reduce((sum, state) => sum + (counts[state] ?? 0), 0);
}

function countsView(clusterId, rows, query) {
  const cell = (kind, state, count) =>
    count === 0 ? h("span", { class: "muted" }, "0") : h("a", { href: resourcesHref(clusterId, { kind, state, namespace: query.namespace }) }, String(count));
  return table(
    ["Kind", ...resourceStates, "total"],
    rows.map(({ kind, counts }) => [
      kind ? h("a", { href: resourcesHref(clusterId, { kind, namespace: query.namespace }), class: "mono" }, kind) : h("strong", {}, "all kinds"),
      ...resourceStates.map((state) => cell(kind, state, counts[state] ?? 0)),
      h("strong", {}, String(total(counts))),
    ]),
    { className: "resource-counts" },
  );
}

function lastError(resource) {
  const errors = resource.errors ?? [];
  if (errors.length === 0) return h("span", { class: "muted" }, "–");
  const newest = errors.reduce((a, b) => (b.attempt > a.attempt ? b : a));
  const message = newest.message.length > 60 ? `${newest.message.slice(0, 59)}…` : newest.message;
  return h("span", { title: newest.message, class: "error-text" }, message);
}

function listView(clusterId, page, query, grandTotal, now) {
  const resources = page.resources ?? [];
  if (resources.length === 0) {
    if (grandTotal === 0 && !query.kind && !query.state && !query.namespace) {
      return empty(`No resources in this cluster yet. Inform one with POST /resources and the cluster's API secret; it shows here with its state.`);
    }
    const filters = ["kind", "state", "namespace"].filter((name) => query[name]).map((name) => `${name} ${query[name]}`);
    return empty(query.cursor ? "No more resources: this is past the last page." : `No resource with ${filters.join(", ")}.`);
  }
  return table(
    ["Kind", "Resource", "State", "Attempts", "Namespace", "Version", "Updated", "Next attempt", "Last error"],
    resources.map((resource) => [
      h("span", { class: "mono" }, resource.kind),
      h("a", { href: resourceHref(clusterId, resource), class: "mono resource-link" }, resource.id),
      badge(resource.state),
      `${resource.attempts} of ${resource.maxAttempts}`,
      resource.namespace,
      resource.version ?? "–",
      h("span", { title: resource.updatedAt ?? "" }, ago(resource.updatedAt, now)),
      resource.nextAttemptAt ? h("span", { title: resource.nextAttemptAt }, until(resource.nextAttemptAt, now)) : "–",
      lastError(resource),
    ]),
    { className: "resources" },
  );
}

function pager(clusterId, page, query, shown) {
  const first = query.cursor ? h("a", { href: resourcesHref(clusterId, { ...query, cursor: "", page: 1 }), id: "first-page" }, "← first page") : null;
  const next = page.cursor ? h("a", { href: resourcesHref(clusterId, { ...query, cursor: page.cursor, page: query.page + 1 }), id: "next-page" }, "next page →") : null;
  const where = `page ${query.page}: ${plural(shown, "resource")} in kind and id order`;
  return h("p", { class: "pager" }, first, h("span", { class: "muted" }, where), next);
}

/** The informer's interval, last successful run and last error, in words. */
function informerText(settings) {
  if (!settings.informIntervalSeconds) return "off";
  const last = settings.lastInformedAt ? `last successful run ${settings.lastInformedAt}` : "no successful run yet";
  const error = settings.informError ? `; the last run failed: ${settings.informError}` : "";
  return `every ${settings.informIntervalSeconds} s, ${last}${error}`;
}

/** A kind's controller settings, read-only (PUT /resources-kinds/:kind changes them). */
export function kindSettingsView(settings) {
  return h(
    "div",
    { class: "card kind-settings" },
    h("h3", {}, "Controller settings of ", h("span", { class: "mono" }, settings.kind)),
    h(
      "dl",
      { class: "fields plain" },
      h("dt", {}, "Retry backoff"),
      h("dd", {}, `${settings.backoffBaseMs} ms doubling per attempt, at most ${settings.backoffCapMs} ms`),
      h("dt", {}, "Timeout of a work"),
      h("dd", {}, `${settings.timeoutSeconds} s`),
      h("dt", {}, "Informer"),
      h("dd", {}, informerText(settings)),
    ),
    h("p", { class: "muted" }, "Read-only here; PUT /resources-kinds/<kind> with the cluster's API secret changes them."),
  );
}

function filterForm(clusterId, query, kinds) {
  const error = h("p", { class: "form-error", role: "alert", id: "filter-error" });
  const kind = h("input", { type: "text", id: "kind-filter", list: "kinds", value: query.kind, placeholder: "all kinds", size: 14, autocomplete: "off" });
  const namespace = h("input", { type: "text", id: "namespace-filter", value: query.namespace, placeholder: "all namespaces", size: 14, autocomplete: "off" });
  const state = h(
    "select",
    { id: "resource-state-filter" },
    [["", "all states"], ...resourceStates.map((s) => [s, s])].map(([value, text]) => h("option", { value, selected: value === query.state }, text)),
  );
  const apply = () => {
    const wanted = { kind: kind.value.trim(), state: state.value, namespace: namespace.value.trim() };
    for (const name of ["kind", "namespace"]) {
      if (wanted[name] && !namePattern.test(wanted[name])) {
        replace(error, `A ${name} is 1 to 63 letters, digits, _ or -, starting with a letter or digit.`);
        return;
      }
    }
    location.hash = resourcesHref(clusterId, wanted);
  };
  state.addEventListener("change", apply);
  return h(
    "form",
    {
      class: "filters",
      id: "resource-filters",
      onsubmit: (event) => {
        event.preventDefault();
        apply();
      },
    },
    h("label", { for: "kind-filter", class: "filter" }, "Kind ", kind),
    h("datalist", { id: "kinds" }, kinds.map((k) => h("option", { value: k }))),
    h("label", { for: "resource-state-filter", class: "filter" }, "State ", state),
    h("label", { for: "namespace-filter", class: "filter" }, "Namespace ", namespace),
    h("button", { type: "submit", class: "quiet" }, "Filter"),
    error,
  );
}

export async function resourcesPage(main, context) {
  const [clusterId] = context.params;
  const query = resourceQuery();
  const counts = h("section", { id: "resource-counts" });
  const settings = h("div");
  const list = h("div", { id: "resource-list" });
  const paging = h("div");
  const updated = h("span", { class: "muted", id: "updated" });
  const filters = h("div");
  let kinds = [];
  let kindsAt = 0;

  const load = async () => {
    const now = Date.now();
    const cluster = now - kindsAt >= kindsRefreshMs ? await api.cluster(clusterId) : null;
    const [page, all] = await Promise.all([
      api.resources(clusterId, { kind: query.kind, state: query.state, namespace: query.namespace, cursor: query.cursor, limit: pageSize }),
      api.resourceCounts(clusterId, { namespace: query.namespace }),
    ]);
    if (cluster) {
      kindsAt = now;
      kinds = kindsOf(cluster, page.resources);
    } else {
      kinds = [...new Set([...kinds, ...page.resources.map((r) => r.kind)])].sort();
    }
    if (query.kind && !kinds.includes(query.kind)) kinds = [...kinds, query.kind].sort();
    const perKind = await Promise.all(kinds.map(async (kind) => ({ kind, counts: (await api.resourceCounts(clusterId, { kind, namespace: query.namespace })).counts })));
    const kindSettings = query.kind ? await api.resourceKind(clusterId, query.kind) : null;
    if (!context.current()) return;
    const grandTotal = total(all.counts);
    replace(
      counts,
      h("h2", {}, "Counts by state", h("span", { class: "muted" }, query.namespace ? ` in namespace ${query.namespace}` : " per kind")),
      countsView(clusterId, [...perKind, { kind: "", counts: all.counts }], query),
    );
    replace(settings, kindSettings ? kindSettingsView(kindSettings) : null);
    replace(list, listView(clusterId, page, query, grandTotal, Date.now()));
    replace(paging, page.resources.length > 0 || query.cursor ? pager(clusterId, page, query, page.resources.length) : null);
    if (!filters.contains(document.activeElement)) replace(filters, filterForm(clusterId, query, kinds));
    replace(updated, `updated ${new Date(now).toLocaleTimeString([], { hour12: false })}, every ${refreshMs / 1000} s`);
  };

  await load();
  replace(
    main,
    h("h1", {}, "Resources ", h("span", { class: "muted mono" }, clusterId)),
    h("p", {}, updated),
    counts,
    h("section", {}, h("h2", {}, "Resources"), filters, settings, list, paging),
  );
  context.every(refreshMs, load);
}
