// #/clusters/<id>/settings : the cluster's identity and its stored settings.
import { api } from "./api.js";
import { h, replace } from "./dom.js";

export async function settingsPage(main, context) {
  const [clusterId] = context.params;
  const [settings, clusters] = await Promise.all([api.settings(clusterId), api.clusters()]);
  const cluster = clusters.find((c) => c.id === clusterId);
  const status = h("p", { class: "muted", role: "status" });
  const checkbox = h("input", { type: "checkbox", id: "predictive", checked: settings.predictiveRetriesEnabled });
  checkbox.addEventListener("change", async () => {
    checkbox.disabled = true;
    try {
      await api.changeSettings(clusterId, { predictiveRetriesEnabled: checkbox.checked });
      replace(status, "Saved.");
    } catch (error) {
      checkbox.checked = !checkbox.checked;
      replace(status, error.message);
    } finally {
      checkbox.disabled = false;
    }
  });
  replace(
    main,
    h("h1", {}, "Settings"),
    h(
      "dl",
      { class: "fields card" },
      h("dt", {}, "Cluster"),
      h("dd", { class: "mono" }, clusterId),
      h("dt", {}, "Description"),
      h("dd", {}, cluster?.description ?? "none"),
      h("dt", {}, "Created"),
      h("dd", {}, cluster?.createdAt ?? "–"),
      h("dt", {}, "Cloud"),
      h("dd", {}, settings.cloudEnabled ? "enabled" : "not available on this server"),
    ),
    h(
      "section",
      { class: "card" },
      h("label", { for: "predictive", class: "check" }, checkbox, " Predictive retries"),
      h("p", { class: "muted" }, "Stored for compatibility with the SDK's contract; diffplane has no predictive retries, so it changes nothing."),
      status,
    ),
  );
}
