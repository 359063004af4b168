// Building the page from DOM nodes only: text always becomes a text node and is never
// parsed as HTML, so names and ids from the server cannot inject markup.

/** An element: h("a", {href: "#/", class: "x"}, "text", child, ...). */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces the children of `element`. */
export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
}

/** A table with a header row; `rows` are arrays of cells (text or nodes). */
export function table(headers, rows, { className = "" } = {}) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: className },
      h("thead", {}, h("tr", {}, headers.map((title) => h("th", { scope: "col" }, title)))),
      h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((cell) => h("td", {}, cell))))),
    ),
  );
}

/** A readable "nothing here yet" paragraph. */
export function empty(text) {
  return h("p", { class: "empty" }, text);
}

/** "12 s ago", "3 min ago", "2 h ago", or the date for older times. */
export function ago(iso, now = Date.now()) {
  if (!iso) return "never";
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 90) return `${seconds} s ago`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 36 * 3600) return `${Math.round(seconds / 3600)} h ago`;
  return new Date(iso).toISOString().slice(0, 16).replace("T", " ");
}

/** An ISO time as local "HH:MM:SS.mmm" with its full value as a tooltip. */
export function clock(iso) {
  if (!iso) return "–";
  const date = new Date(iso);
  const text = `${date.toLocaleTimeString([], { hour12: false })}.${String(date.getMilliseconds()).padStart(3, "0")}`;
  return h("time", { datetime: iso, title: iso }, text);
}

/** Bytes as "0 B", "812 B", "3.4 KiB", "1.2 MiB". */
export function bytes(count) {
  if (count === null || count === undefined) return "–";
  if (count < 1024) return `${count} B`;
  if (count < 1024 * 1024) return `${(count / 1024).toFixed(1)} KiB`;
  return `${(count / 1024 / 1024).toFixed(1)} MiB`;
}

/** A coloured label of a job state or machine state. */
export function badge(state) {
  return h("span", { class: `badge badge-${String(state).replace(/[^a-z]/gi, "")}` }, state);
}

/** A future time as "in 2 s", "in 3 min"; a past one as ago() says it. */
export function until(iso, now = Date.now()) {
  if (!iso) return "never";
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  if (seconds < 0) return ago(iso, now);
  if (seconds < 90) return `in ${seconds} s`;
  if (seconds < 90 * 60) return `in ${Math.round(seconds / 60)} min`;
  if (seconds < 36 * 3600) return `in ${Math.round(seconds / 3600)} h`;
  return new Date(iso).toISOString().slice(0, 16).replace("T", " ");
}

/** "1 cluster", "3 clusters". */
export function plural(count, noun) {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/**
 * A button that replaces itself with what `show()` resolves to (nodes): payloads are
 * fetched afresh and shown only when asked for. A failure is shown beside the button.
 */
export function revealButton(label, show, { id } = {}) {
  const place = h("span");
  const button = h(
    "button",
    {
      type: "button",
      class: "quiet",
      id,
      onclick: async () => {
        button.disabled = true;
        try {
          replace(place, await show());
        } catch (error) {
          replace(place, button, " ", h("span", { class: "form-error" }, error.message));
          button.disabled = false;
        }
      },
    },
    label,
  );
  place.append(button);
  return place;
}
