// #/clusters/<id>/resources/<kind>/<resourceId> : one resource, its attempts and last
// errors. Its object (and metadata) is shown only when asked for, and then fetched afresh.
import { api } from "./api.js";
import { badge, bytes, clock, empty, h, replace, revealButton, table, until } from "./dom.js";
import { kindSettingsView, resourcesHref } from "./page_resources.js";

const refreshMs = 3000;

/** The size of a value's JSON text in UTF-8 bytes. */
function jsonBytes(value) {
  return new TextEncoder().encode(JSON.stringify(value)).length;
}

function errorsView(errors) {
  if (!errors || errors.length === 0) return empty("No failed attempt of the current object.");
  const newestFirst = [...errors].sort((a, b) => b.attempt - a.attempt);
  return table(
    ["Attempt", "At", "Error"],
    newestFirst.map((error) => [String(error.attempt), clock(error.at), h("span", { class: "error-text wrap" }, error.message)]),
    { className: "resource-errors" },
  );
}

function tagsView(tags) {
  const entries = Object.entries(tags ?? {});
  if (entries.length === 0) return "none";
  return h("span", { class: "tags" }, entries.map(([name, value]) => h("span", { class: "tag mono" }, `${name}=${value}`)));
}

function objectReveal(clusterId, kind, resourceId) {
  return revealButton(
    "Show object",
    async () => {
      const fresh = await api.resource(clusterId, kind, resourceId);
      const metadata = fresh.metadata === null || fresh.metadata === undefined ? [] : [h("h3", {}, "Metadata"), h("pre", { class: "payload" }, JSON.stringify(fresh.metadata, null, 2))];
      return [h("pre", { class: "payload", id: "resource-object" }, JSON.stringify(fresh.object, null, 2)), ...metadata];
    },
    { id: "show-object" },
  );
}

export async function resourcePage(main, context) {
  const [clusterId, kind, resourceId] = context.params;
  const details = h("section");
  const errors = h("section");
  const settings = h("section");
  const object = h("section");
  let revealed = false;

  const load = async () => {
    const [resource, kindSettings] = await Promise.all([api.resource(clusterId, kind, resourceId), api.resourceKind(clusterId, kind)]);
    const objectSize = jsonBytes(resource.object);
    const metadataSize = resource.metadata === null ? null : jsonBytes(resource.metadata);
    delete resource.object; // contents are fetched again only when asked for
    delete resource.metadata;
    if (!context.current()) return;
    const now = Date.now();
    const fields = [
      ["State", badge(resource.state)],
      ["Kind", h("span", { class: "mono" }, resource.kind)],
      ["Namespace", resource.namespace],
      ["Attempts", `${resource.attempts} of ${resource.maxAttempts}`],
      ["Next attempt", resource.nextAttemptAt ? h("span", {}, clock(resource.nextAttemptAt), ` (${until(resource.nextAttemptAt, now)})`) : "–"],
      ["Runs again", resource.dirty ? "yes: a newer object came while a work ran; one more work follows it" : "no"],
      [
        "Work job",
        resource.jobId ? h("a", { href: `#/clusters/${encodeURIComponent(clusterId)}/jobs/${encodeURIComponent(resource.jobId)}`, class: "mono" }, resource.jobId) : "–",
      ],
      ["Version", resource.version ?? "–"],
      ["Hash", h("span", { class: "mono" }, resource.hash)],
      ["Tags", tagsView(resource.tags)],
      ["Created (outside)", clock(resource.createdAt)],
      ["Updated", clock(resource.updatedAt)],
    ];
    replace(details, h("dl", { class: "fields", id: "resource-fields" }, fields.map(([name, value]) => [h("dt", {}, name), h("dd", {}, value)])));
    replace(errors, h("h2", {}, "Last errors", h("span", { class: "muted" }, " newest first, at most 20")), errorsView(resource.errors));
    replace(settings, kindSettingsView(kindSettings));
    if (!revealed) {
      const metadata = metadataSize === null ? "no metadata" : `metadata ${bytes(metadataSize)}`;
      replace(object, h("h2", {}, "Object"), h("p", {}, `Object ${bytes(objectSize)} of JSON, ${metadata}; contents are not shown. `, objectReveal(clusterId, kind, resourceId)));
      revealed = true;
    }
  };

  await load();
  replace(
    main,
    h("p", {}, h("a", { href: resourcesHref(clusterId, { kind }) }, `← resources of kind ${kind}`)),
    h("h1", {}, "Resource ", h("span", { class: "mono" }, `${kind}/${resourceId}`)),
    details,
    errors,
    object,
    settings,
  );
  context.every(refreshMs, load);
}
