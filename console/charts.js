// Charts drawn as SVG from the metrics route's numbers: no chart library. Colours come
// from console.css classes (the Content-Security-Policy allows no inline styles).

const svgNs = "http://www.w3.org/2000/svg";

function s(tag, attributes = {}, ...children) {
  const element = document.createElementNS(svgNs, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  for (const child of children) element.append(child);
  return element;
}

/** The minutes of the last hour, oldest first, as epoch ms of each minute's start. */
export function lastHourMinutes(now = Date.now()) {
  const current = Math.floor(now / 60_000) * 60_000;
  return Array.from({ length: 60 }, (_, i) => current - (59 - i) * 60_000);
}

/** A round upper bound for an axis: 1, 2, 5, 10, 20, 50, ... */
function niceMax(value) {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (value <= step * power) return step * power;
  return 10 * power;
}

/**
 * A chart over the last hour, one slot per minute. `series` are
 * {label, className, values: number per minute}; "bar" stacks them, "line" draws each.
 */
export function minuteChart({ title, minutes, series, kind = "bar", unit = "" }) {
  const width = 640;
  const height = 180;
  const left = 44;
  const bottom = 22;
  const plotWidth = width - left - 8;
  const plotHeight = height - bottom - 10;
  const totals = minutes.map((_, i) =>
    kind === "bar" ? series.reduce((sum, one) => sum + (one.values[i] ?? 0), 0) : Math.max(...series.map((one) => one.values[i] ?? 0)),
  );
  const top = niceMax(Math.max(0, ...totals));
  const y = (value) => 10 + plotHeight - (value / top) * plotHeight;
  const slot = plotWidth / minutes.length;
  const svg = s("svg", {
    viewBox: `0 0 ${width} ${height}`,
    class: "chart",
    role: "img",
    "aria-label": title,
  });
  svg.append(s("title", {}, title));
  for (const fraction of [0, 0.5, 1]) {
    const value = top * fraction;
    svg.append(s("line", { x1: left, x2: width - 8, y1: y(value), y2: y(value), class: "grid" }));
    svg.append(s("text", { x: left - 6, y: y(value) + 4, class: "axis", "text-anchor": "end" }, `${+value.toFixed(1)}${unit}`));
  }
  for (const [index, label] of [[0, "-60 min"], [30, "-30 min"], [59, "now"]]) {
    svg.append(s("text", { x: left + index * slot + slot / 2, y: height - 6, class: "axis", "text-anchor": "middle" }, label));
  }
  if (kind === "bar") {
    minutes.forEach((minute, i) => {
      let base = 0;
      for (const one of series) {
        const value = one.values[i] ?? 0;
        if (value <= 0) continue;
        const rect = s("rect", {
          x: left + i * slot + 1,
          width: Math.max(1, slot - 2),
          y: y(base + value),
          height: y(base) - y(base + value),
          class: one.className,
        });
        rect.append(s("title", {}, `${new Date(minute).toLocaleTimeString([], { hour12: false })}: ${one.label} ${value}`));
        svg.append(rect);
        base += value;
      }
    });
  } else {
    for (const one of series) {
      const points = [];
      minutes.forEach((_, i) => {
        const value = one.values[i];
        if (value === null || value === undefined) return;
        points.push(`${left + i * slot + slot / 2},${y(value)}`);
      });
      if (points.length > 0) svg.append(s("polyline", { points: points.join(" "), class: `line ${one.className}` }));
      minutes.forEach((minute, i) => {
        const value = one.values[i];
        if (value === null || value === undefined) return;
        const dot = s("circle", { cx: left + i * slot + slot / 2, cy: y(value), r: 2.5, class: one.className });
        dot.append(s("title", {}, `${new Date(minute).toLocaleTimeString([], { hour12: false })}: ${one.label} ${value}${unit}`));
        svg.append(dot);
      });
    }
  }
  return svg;
}

/** Horizontal bars, one per {label, value, className}: counts per function. */
export function barList({ title, items, unit = "" }) {
  const rowHeight = 22;
  const width = 640;
  const labelWidth = 220;
  const height = Math.max(1, items.length) * rowHeight + 4;
  const top = niceMax(Math.max(0, ...items.map((item) => item.value)));
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img", "aria-label": title });
  svg.append(s("title", {}, title));
  items.forEach((item, i) => {
    const yTop = i * rowHeight + 2;
    svg.append(s("text", { x: labelWidth - 8, y: yTop + 15, class: "axis", "text-anchor": "end" }, item.label));
    const barWidth = ((width - labelWidth - 70) * item.value) / top;
    svg.append(s("rect", { x: labelWidth, y: yTop + 3, height: rowHeight - 6, width: Math.max(1, barWidth), class: item.className }));
    svg.append(s("text", { x: labelWidth + barWidth + 6, y: yTop + 15, class: "axis" }, `${item.value}${unit}`));
  });
  return svg;
}
