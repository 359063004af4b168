// #/nodes : the live nodes of the control plane, the clusters each serves, and every
// cluster's lease, as the answering node's last membership round saw them.
import { api } from "./api.js";
import { ago, badge, empty, h, plural, replace, table, until } from "./dom.js";

const refreshMs = 3000;
/** A node's cluster list stops here, with "and N more": a node may serve hundreds. */
const clustersListed = 12;

function clusterLink(clusterId, names) {
  const description = names.get(clusterId);
  return h(
    "span",
    { class: "cluster-ref" },
    h("a", { href: `#/clusters/${encodeURIComponent(clusterId)}`, class: "mono" }, clusterId),
    " ",
    description ? h("span", { class: "muted", title: description }, description) : null,
  );
}

function clusterList(clusterIds, names) {
  if (clusterIds.length === 0) return h("span", { class: "muted" }, "none");
  const shown = clusterIds.slice(0, clustersListed).map((id) => h("li", {}, clusterLink(id, names)));
  if (clusterIds.length > clustersListed) shown.push(h("li", { class: "muted" }, `and ${clusterIds.length - clustersListed} more`));
  return h("ul", { class: "node-clusters" }, shown);
}

/** What the page says of the membership as a whole: alone, or several nodes. */
function summary(view) {
  const nodes = view.nodes ?? [];
  if (nodes.length === 0) {
    return empty("No live node: the server has not completed a membership round yet, or no heartbeat is younger than the lease TTL.");
  }
  if (nodes.length > 1) return h("p", { id: "nodes-summary" }, `${nodes.length} live nodes share this database; each cluster is served by the node holding its lease.`);
  const [node] = nodes;
  const alone =
    node.cafAddress === null
      ? " It was started without --caf-port: it links to no other node and forwards nothing."
      : "";
  return h("p", { id: "nodes-summary" }, "A single node: ", h("span", { class: "mono" }, node.id), ` serves every cluster.${alone}`);
}

function nodesView(view, names, now) {
  const nodes = view.nodes ?? [];
  if (nodes.length === 0) return null;
  return table(
    ["Node", "HTTP address", "CAF address", "Started", "Last heartbeat", "Clusters"],
    nodes.map((node) => [
      h("span", { class: "mono" }, node.id),
      h("span", { class: "mono" }, node.httpAddress || "–"),
      node.cafAddress ? h("span", { class: "mono" }, node.cafAddress) : h("span", { class: "muted" }, node.cafAddress === null ? "not published" : "–"),
      h("span", { title: node.startedAt ?? "" }, ago(node.startedAt, now)),
      h("span", { title: node.heartbeatAt ?? "", class: "heartbeat" }, ago(node.heartbeatAt, now)),
      h("div", {}, h("strong", {}, String(node.clusters.length)), " ", clusterList(node.clusters, names)),
    ]),
    { className: "nodes" },
  );
}

function leaseState(lease) {
  if (!lease.nodeId) return "unowned";
  return lease.expired ? "expired" : "held";
}

/** When the lease ends, in words; `expired` is the database's, the time this browser's. */
function expiry(lease, now) {
  if (!lease.expiresAt) return "–";
  if (lease.expired) return `expired ${ago(lease.expiresAt, now)}`;
  return Date.parse(lease.expiresAt) <= now ? "due for renewal" : until(lease.expiresAt, now);
}

function leasesView(view, names, now) {
  const leases = view.leases ?? [];
  if (leases.length === 0) return empty("No leases yet: a cluster gets one when a node first serves it.");
  return table(
    ["Cluster", "Owner", "Epoch", "Expires", "State"],
    leases.map((lease) => [
      clusterLink(lease.clusterId, names),
      lease.nodeId ? h("span", { class: "mono" }, lease.nodeId) : h("span", { class: "muted" }, "none yet"),
      String(lease.epoch),
      h("span", { title: lease.expiresAt ?? "" }, expiry(lease, now)),
      badge(leaseState(lease)),
    ]),
    { className: "leases" },
  );
}

export async function nodesPage(main, context) {
  const overview = h("section");
  const nodes = h("section");
  const leases = h("section");
  const updated = h("span", { class: "muted", id: "updated" });
  let names = new Map();

  const load = async () => {
    const [view, clusters] = await Promise.all([api.nodes(), api.clusters()]);
    if (!context.current()) return;
    names = new Map(clusters.map((c) => [c.id, c.description]));
    const now = Date.now();
    replace(overview, summary(view));
    replace(nodes, h("h2", {}, plural((view.nodes ?? []).length, "live node")), nodesView(view, names, now));
    replace(
      leases,
      h("h2", {}, "Cluster leases", h("span", { class: "muted" }, " owner, fencing epoch and expiry")),
      leasesView(view, names, now),
    );
    replace(updated, `updated ${new Date(now).toLocaleTimeString([], { hour12: false })}, every ${refreshMs / 1000} s; as the answering node's last membership round saw them`);
  };

  await load();
  replace(main, h("h1", {}, "Nodes"), h("p", {}, updated), overview, nodes, leases);
  context.every(refreshMs, load);
}
