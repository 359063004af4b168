// #/clusters/<id> : services with their functions and machines, counts by state and the
// latest jobs, filtered by service and state, refreshed every few seconds.
import { api } from "./api.js";
import { ago, badge, clock, empty, h, replace, table } from "./dom.js";
import { describeEvent, eventClass } from "./page_job.js";

const refreshMs = 3000;
/** The activity route reads up to 1000 jobs: refreshed less often than the rest. */
const activityRefreshMs = 15_000;
const activityShown = 15;
/** The server's default --machine-stall-seconds: a machine silent longer is inactive. */
export const silentAfterSeconds = 90;
const states = ["pending", "running", "success", "failure"];
/** The filters survive a refresh and a visit to a job, per cluster. */
const filters = new Map();

export function machineState(machine, now = Date.now()) {
  if (!machine.lastPingAt) return "silent";
  return now - Date.parse(machine.lastPingAt) <= silentAfterSeconds * 1000 ? "active" : "silent";
}

/** Every service the cluster knows of: from definitions, machines and jobs. */
export function serviceNames(cluster) {
  const names = new Set();
  for (const definition of cluster.definitions ?? []) names.add(definition.name);
  for (const machine of cluster.machines ?? []) if (machine.pool) names.add(machine.pool);
  for (const job of cluster.jobs ?? []) names.add(job.service);
  return [...names].sort();
}

function countsView(jobs) {
  const counts = Object.fromEntries(states.map((state) => [state, 0]));
  for (const job of jobs) counts[job.status] = (counts[job.status] ?? 0) + 1;
  return h(
    "div",
    { class: "counts", id: "counts" },
    states.map((state) => h("div", { class: `count count-${state}` }, h("strong", {}, String(counts[state])), h("span", {}, state))),
  );
}

function servicesView(cluster, now) {
  const names = serviceNames(cluster);
  if (names.length === 0) {
    return empty(`No services yet. Point an SDK worker at ${location.origin} with one of this cluster's API secrets: its service shows here once it polls.`);
  }
  return h(
    "div",
    { class: "services" },
    names.map((name) => {
      const definition = (cluster.definitions ?? []).find((d) => d.name === name);
      const machines = (cluster.machines ?? []).filter((m) => m.pool === name);
      const active = machines.filter((m) => machineState(m, now) === "active").length;
      return h(
        "article",
        { class: "card service" },
        h("h3", {}, name),
        h("p", { class: "muted" }, `${active} active / ${machines.length} machine${machines.length === 1 ? "" : "s"}`),
        definition && definition.functions.length > 0
          ? h("ul", { class: "functions" }, definition.functions.map((fn) => h("li", { class: "mono" }, fn.name)))
          : h("p", { class: "muted" }, "No function list sent yet."),
      );
    }),
  );
}

function machinesView(cluster, now) {
  const machines = cluster.machines ?? [];
  if (machines.length === 0) return empty("No machine has polled this cluster yet.");
  return table(
    ["Machine", "Service", "IP", "Last ping", "State", "Deployment"],
    machines.map((machine) => [
      h("span", { class: "mono" }, machine.id),
      machine.pool ?? "–",
      machine.ip ?? "–",
      h("span", { title: machine.lastPingAt ?? "" }, ago(machine.lastPingAt, now)),
      badge(machineState(machine, now)),
      machine.deploymentId ?? "–",
    ]),
    { className: "machines" },
  );
}

function jobsView(clusterId, jobs, filter) {
  const shown = filter.state ? jobs.filter((job) => job.status === filter.state) : jobs;
  if (shown.length === 0) {
    return empty(jobs.length === 0 ? "No jobs yet: calls made with the SDK show here." : `No ${filter.state} job among the newest ${jobs.length}.`);
  }
  return table(
    ["Job", "State", "Service", "Function", "Result", "Created", "Execution"],
    shown.map((job) => [
      h("a", { href: `#/clusters/${encodeURIComponent(clusterId)}/jobs/${encodeURIComponent(job.id)}`, class: "mono job-link" }, job.id),
      badge(job.status),
      job.service,
      h("span", { class: "mono" }, job.targetFn),
      job.resultType ?? "–",
      clock(job.createdAt),
      job.functionExecutionTime === null || job.functionExecutionTime === undefined ? "–" : `${job.functionExecutionTime} ms`,
    ]),
    { className: "jobs" },
  );
}

function activityView(clusterId, activity) {
  if (activity.length === 0) return empty("No activity yet.");
  return h(
    "ol",
    { class: "timeline", id: "cluster-activity" },
    activity.slice(0, activityShown).map((event) =>
      h(
        "li",
        { class: eventClass[event.type] ?? "", "data-type": event.type },
        clock(event.timestamp),
        event.jobId
          ? h("a", { href: `#/clusters/${encodeURIComponent(clusterId)}/jobs/${encodeURIComponent(event.jobId)}`, class: "mono" }, event.jobId.slice(0, 12))
          : null,
        h("span", { class: "event" }, event.service ? `${event.service}: ` : "", describeEvent(event)),
      ),
    ),
  );
}

function select(id, label, options, value, onchange) {
  return h(
    "label",
    { for: id, class: "filter" },
    label,
    h(
      "select",
      { id, onchange: (event) => onchange(event.target.value) },
      options.map(([optionValue, text]) => h("option", { value: optionValue, selected: optionValue === value }, text)),
    ),
  );
}

export async function clusterPage(main, context) {
  const [clusterId] = context.params;
  const filter = filters.get(clusterId) ?? { service: "", state: "" };
  filters.set(clusterId, filter);

  const counts = h("section", { "aria-label": "counts by state" });
  const services = h("section");
  const machines = h("section");
  const jobs = h("div", { id: "jobs" });
  const serviceFilter = h("span");
  const updated = h("span", { class: "muted", id: "updated" });
  const activity = h("section");
  let activityAt = 0;

  const load = async () => {
    const cluster = await api.cluster(clusterId);
    const jobList = filter.service ? (await api.service(clusterId, filter.service, 100)).jobs : cluster.jobs;
    if (!context.current()) return;
    const now = Date.now();
    replace(counts, countsView(jobList));
    replace(services, h("h2", {}, "Services"), servicesView(cluster, now));
    replace(machines, h("h2", {}, "Machines"), machinesView(cluster, now));
    replace(jobs, jobsView(clusterId, jobList, filter));
    if (now - activityAt >= activityRefreshMs) {
      activityAt = now;
      const entries = await api.activity(clusterId);
      if (context.current()) replace(activity, h("h2", {}, "Recent activity", h("span", { class: "muted" }, ` newest ${activityShown}`)), activityView(clusterId, entries));
    }
    const names = serviceNames(cluster);
    if (filter.service && !names.includes(filter.service)) names.push(filter.service);
    if (!serviceFilter.querySelector("select:focus")) {
      replace(
        serviceFilter,
        select("service-filter", "Service ", [["", "all services"], ...names.map((n) => [n, n])], filter.service, (value) => {
          filter.service = value;
          load().catch(context.showError);
        }),
      );
    }
    replace(updated, `updated ${new Date(now).toLocaleTimeString([], { hour12: false })}, every ${refreshMs / 1000} s`);
  };

  const stateFilter = select("state-filter", "State ", [["", "all states"], ...states.map((s) => [s, s])], filter.state, (value) => {
    filter.state = value;
    load().catch(context.showError);
  });

  await load();
  replace(
    main,
    h("h1", {}, "Cluster ", h("span", { class: "mono" }, clusterId)),
    h("p", {}, updated),
    h("h2", {}, "Counts by state", h("span", { class: "muted" }, " of the newest 100 jobs shown below")),
    counts,
    services,
    machines,
    h("section", {}, h("h2", {}, "Latest jobs"), h("div", { class: "filters" }, serviceFilter, stateFilter), jobs),
    activity,
  );
  context.every(refreshMs, load);
}
