// #/clusters/<id>/metrics : per service, the metrics route's per-minute series of the
// last hour drawn as charts, and its per-function summary of the last 24 hours.
import { api } from "./api.js";
import { barList, lastHourMinutes, minuteChart } from "./charts.js";
import { empty, h, replace, table } from "./dom.js";
import { serviceNames } from "./page_cluster.js";

const refreshMs = 10_000;
const chosen = new Map();

/** The timeseries items placed on the minutes of the last hour. */
export function perMinute(timeseries, minutes, field) {
  const byMinute = new Map(timeseries.map((item) => [Math.floor(Date.parse(item.timeBin) / 60_000) * 60_000, item]));
  return minutes.map((minute) => {
    const item = byMinute.get(minute);
    return item ? Number(item[field] ?? 0) : field === "avgExecutionTime" ? null : 0;
  });
}

function chartsView(metrics) {
  const minutes = lastHourMinutes();
  const series = metrics.timeseries ?? [];
  const summary = metrics.summary ?? [];
  const parts = [];
  if (series.length === 0) {
    parts.push(empty("No result or stall in the last hour."));
  } else {
    const resulted = perMinute(series, minutes, "totalJobResulted");
    const rejected = perMinute(series, minutes, "rejectionCount");
    parts.push(
      h(
        "figure",
        { class: "card", id: "chart-results" },
        h("figcaption", {}, "Jobs per minute: ", h("span", { class: "key key-resolved" }, "resolved"), " ", h("span", { class: "key key-rejected" }, "rejected"), " ", h("span", { class: "key key-stalled" }, "stalled")),
        minuteChart({
          title: "jobs resulted and stalled per minute",
          minutes,
          series: [
            { label: "resolved", className: "fill-resolved", values: resulted.map((count, i) => Math.max(0, count - rejected[i])) },
            { label: "rejected", className: "fill-rejected", values: rejected },
            { label: "stalled", className: "fill-stalled", values: perMinute(series, minutes, "totalJobStalled") },
          ],
        }),
      ),
      h(
        "figure",
        { class: "card", id: "chart-time" },
        h("figcaption", {}, "Average execution time per minute (ms)"),
        minuteChart({
          title: "average execution time per minute",
          minutes,
          kind: "line",
          unit: " ms",
          series: [{ label: "average", className: "stroke-time", values: perMinute(series, minutes, "avgExecutionTime") }],
        }),
      ),
    );
  }
  if (summary.length === 0) {
    parts.push(empty("No finished job in the last 24 hours."));
  } else {
    const items = summary.map((row) => ({
      label: `${row.targetFn} (${row.resultType})`,
      value: Number(row.count),
      className: row.resultType === "rejection" ? "fill-rejected" : "fill-resolved",
    }));
    parts.push(
      h("figure", { class: "card", id: "chart-functions" }, h("figcaption", {}, "Finished jobs per function, last 24 hours"), barList({ title: "finished jobs per function", items })),
      table(
        ["Function", "Result", "Count", "Average", "Min", "Max"],
        summary.map((row) => [
          h("span", { class: "mono" }, row.targetFn),
          row.resultType,
          String(row.count),
          `${Math.round(Number(row.avgExecutionTime))} ms`,
          `${row.minExecutionTime} ms`,
          `${row.maxExecutionTime} ms`,
        ]),
      ),
    );
  }
  return parts;
}

export async function metricsPage(main, context) {
  const [clusterId] = context.params;
  const cluster = await api.cluster(clusterId);
  const names = serviceNames(cluster);
  if (names.length === 0) {
    replace(main, h("h1", {}, "Metrics"), empty("No service has run in this cluster yet: its charts show here once jobs finish."));
    return;
  }
  let service = chosen.get(clusterId);
  if (!names.includes(service)) service = names[0];
  const body = h("div", { class: "charts" });
  const load = async () => {
    const metrics = await api.metrics(clusterId, service);
    if (context.current()) replace(body, chartsView(metrics));
  };
  const picker = h(
    "select",
    {
      id: "metrics-service",
      onchange: (event) => {
        service = event.target.value;
        chosen.set(clusterId, service);
        load().catch(context.showError);
      },
    },
    names.map((name) => h("option", { value: name, selected: name === service }, name)),
  );
  await load();
  replace(main, h("h1", {}, "Metrics"), h("label", { for: "metrics-service", class: "filter" }, "Service ", picker), body);
  context.every(refreshMs, load);
}
