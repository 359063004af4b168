// #/ : every cluster, creating one, and each one's API secret revealed on demand.
import { api } from "./api.js";
import { ago, empty, h, replace, table } from "./dom.js";

function secretCell(cluster) {
  const cell = h("span", { class: "secret" });
  const reveal = h(
    "button",
    {
      type: "button",
      class: "quiet",
      "data-reveal": cluster.id,
      onclick: () => {
        const value = h("code", { class: "secret-value" }, cluster.apiSecret);
        const status = h("span", { class: "muted", role: "status" });
        const copy = h(
          "button",
          {
            type: "button",
            class: "quiet",
            onclick: async () => {
              try {
                await navigator.clipboard.writeText(cluster.apiSecret);
                replace(status, "copied");
              } catch {
                // No clipboard (a page served over plain HTTP to another host): select the
                // text so that the usual shortcut copies it.
                getSelection().selectAllChildren(value);
                replace(status, "selected: press Ctrl+C");
              }
            },
          },
          "Copy",
        );
        const hide = h("button", { type: "button", class: "quiet", onclick: () => replace(cell, reveal) }, "Hide");
        replace(cell, value, " ", copy, " ", hide, " ", status);
      },
    },
    "Reveal API secret",
  );
  cell.append(reveal);
  return cell;
}

export async function clustersPage(main) {
  const clusters = await api.clusters();
  const description = h("input", { type: "text", id: "description", maxlength: 10000, placeholder: "what this cluster is for (optional)" });
  const formError = h("p", { class: "form-error", role: "alert" });
  const button = h("button", { type: "submit" }, "Create cluster");
  const form = h(
    "form",
    {
      class: "inline-form",
      id: "create-cluster",
      onsubmit: async (event) => {
        event.preventDefault();
        button.disabled = true;
        replace(formError);
        try {
          await api.createCluster(description.value.trim() || null);
          await clustersPage(main);
        } catch (error) {
          replace(formError, error.message);
          button.disabled = false;
        }
      },
    },
    h("label", { for: "description" }, "Description"),
    description,
    button,
  );
  const list =
    clusters.length === 0
      ? empty("No clusters yet. Create one above: its API secret is what the SDK's `apiSecret` needs.")
      : table(
          ["Cluster", "Description", "Created", "API secret"],
          [...clusters].reverse().map((cluster) => [
            h("a", { href: `#/clusters/${encodeURIComponent(cluster.id)}`, class: "mono" }, cluster.id),
            cluster.description ?? h("span", { class: "muted" }, "none"),
            h("span", { title: cluster.createdAt }, ago(cluster.createdAt)),
            secretCell(cluster),
          ]),
          { className: "clusters" },
        );
  replace(
    main,
    h("h1", {}, "Clusters"),
    h("section", { class: "card" }, h("h2", {}, "New cluster"), form, formError),
    h("section", {}, h("h2", {}, `${clusters.length} cluster${clusters.length === 1 ? "" : "s"}`, h("span", { class: "muted" }, " newest first")), list),
  );
}
