// #/clusters/<id>/jobs/<jobId> : one job, its activity timeline and its payload sizes.
// Payload contents are shown only when asked for, and then fetched afresh.
import { api } from "./api.js";
import { badge, bytes, clock, empty, h, replace, revealButton } from "./dom.js";

const refreshMs = 3000;

/** One line of the timeline: what happened, in words. */
export function describeEvent(event) {
  const meta = event.meta ?? {};
  switch (event.type) {
    case "jobCreated":
      return `created${meta.background ? " (background)" : ""}`;
    case "jobReceived":
      return `received by machine ${event.machineId ?? "?"} (attempt ${meta.attempt ?? "?"})`;
    case "jobStalled":
      return meta.status === "pending"
        ? `stalled: ${meta.reason}; retried (${meta.attemptsRemaining} attempt${meta.attemptsRemaining === 1 ? "" : "s"} left)`
        : `stalled: ${meta.reason}; no attempt left`;
    case "jobFailed":
      return `failed: ${meta.reason} after ${meta.attempts} attempt${meta.attempts === 1 ? "" : "s"}`;
    case "jobResulted":
      return `resulted: ${meta.resultType}${meta.functionExecutionTime === null || meta.functionExecutionTime === undefined ? "" : ` in ${meta.functionExecutionTime} ms`}`;
    case "jobRecovered":
      return `recovered at start: ${meta.reason} (${meta.previousStatus} → ${meta.status})`;
    case "machineStalled":
      return `machine ${event.machineId ?? "?"} went silent (${meta.silentSeconds ?? "?"} s without a poll)`;
    case "jobResultNotPersisted":
      return `a ${meta.resultType} result was not stored: ${meta.reason}`;
    default:
      return event.type;
  }
}

export const eventClass = {
  machineStalled: "event-stalled",
  jobStalled: "event-stalled",
  jobFailed: "event-failed",
  jobResulted: "event-resulted",
  jobResultNotPersisted: "event-failed",
};

function timeline(activity) {
  if (!activity || activity.length === 0) return empty("No activity recorded for this job.");
  const ordered = [...activity].sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp));
  return h(
    "ol",
    { class: "timeline", id: "timeline" },
    ordered.map((event) =>
      h(
        "li",
        { class: eventClass[event.type] ?? "", "data-type": event.type },
        clock(event.timestamp),
        h("span", { class: "event" }, describeEvent(event)),
      ),
    ),
  );
}

function resultReveal(clusterId, job) {
  if (job.resultBytes === null || job.resultBytes === undefined) return h("span", { class: "muted" }, "no result");
  return revealButton("Show result", async () => {
    const fresh = await api.job(clusterId, job.id);
    return [h("pre", { class: "payload" }, fresh.result ?? ""), h("span", { class: "muted" }, "as stored (the SDK sends base64 of msgpack)")];
  });
}

export async function jobPage(main, context) {
  const [clusterId, jobId] = context.params;
  const details = h("section");
  const events = h("section");
  const reveal = h("div");
  let revealed = false;

  const load = async () => {
    const job = await api.job(clusterId, jobId);
    delete job.result; // contents are fetched again only when asked for
    if (!context.current()) return;
    const fields = [
      ["State", badge(job.status)],
      ["Service", job.service],
      ["Function", h("span", { class: "mono" }, job.targetFn)],
      ["Attempts", `${job.attempts} of ${job.maxAttempts}`],
      ["Timeout", `${job.timeoutSeconds} s per attempt`],
      ["Arguments", bytes(job.targetArgsBytes)],
      ["Result", job.resultBytes === null || job.resultBytes === undefined ? "–" : `${job.resultType}, ${bytes(job.resultBytes)}`],
      ["Machine", job.machineId ?? "–"],
      ["Created", clock(job.createdAt)],
      ["Last dispatched", clock(job.lastDispatchedAt)],
      ["Resulted", clock(job.resultedAt)],
      ["Execution", job.functionExecutionTime === null ? "–" : `${job.functionExecutionTime} ms`],
    ];
    replace(details, h("dl", { class: "fields" }, fields.map(([name, value]) => [h("dt", {}, name), h("dd", {}, value)])));
    replace(events, h("h2", {}, "Activity"), timeline(job.activity));
    if (!revealed) {
      replace(reveal, h("h2", {}, "Payloads"), h("p", {}, `Arguments ${bytes(job.targetArgsBytes)}; contents are not shown. `, resultReveal(clusterId, job)));
      revealed = job.resultBytes !== null && job.resultBytes !== undefined;
    }
  };

  await load();
  replace(
    main,
    h("p", {}, h("a", { href: `#/clusters/${encodeURIComponent(clusterId)}` }, "← cluster")),
    h("h1", {}, "Job ", h("span", { class: "mono" }, jobId)),
    details,
    events,
    reveal,
  );
  context.every(refreshMs, load);
}
