// The management API as the console uses it. The management secret lives in this tab's
// sessionStorage only: it goes when the tab closes, is not shared with other tabs, and
// is sent as every other client sends it, `Authorization: Basic <secret>`.

const key = "diffplane.managementSecret";

export function secret() {
  return sessionStorage.getItem(key);
}

export function signIn(value) {
  sessionStorage.setItem(key, value);
}

export function signOut() {
  sessionStorage.removeItem(key);
}

/** An error the pages show as it is: `kind` is "unreachable", "unauthorized" or "http". */
export class ApiError extends Error {
  constructor(kind, message, status = 0) {
    super(message);
    this.kind = kind;
    this.status = status;
  }
}

/** Calls a route of this server; resolves with the parsed JSON body (null for 204). */
export async function call(method, path, { body, secretOverride, timeoutMs = 10_000 } = {}) {
  const token = secretOverride ?? secret();
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: {
        Authorization: `Basic ${token ?? ""}`,
        ...(body !== undefined && { "Content-Type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
      cache: "no-store",
    });
  } catch (error) {
    const why = error.name === "TimeoutError" ? `no answer within ${timeoutMs / 1000} s` : "the connection failed";
    throw new ApiError("unreachable", `Cannot reach the diffplane server at ${location.origin} (${why}).`);
  }
  const text = await response.text().catch(() => "");
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (response.status === 401) {
    throw new ApiError("unauthorized", "Wrong management secret: the server refused it.", 401);
  }
  if (!response.ok) {
    const message = parsed?.message ?? `${response.status} ${response.statusText}`;
    throw new ApiError("http", `${method} ${path}: ${message}`, response.status);
  }
  return parsed;
}

const encode = encodeURIComponent;

export const api = {
  clusters: () => call("GET", "/clusters"),
  createCluster: (description) => call("POST", "/clusters", { body: { description } }),
  cluster: (id) => call("GET", `/clusters/${encode(id)}`),
  service: (id, name, limit = 100) => call("GET", `/clusters/${encode(id)}/service/${encode(name)}?limit=${limit}`),
  activity: (id) => call("GET", `/clusters/${encode(id)}/activity`),
  job: (id, jobId) => call("GET", `/clusters/${encode(id)}/jobs/${encode(jobId)}`),
  metrics: (id, service) => call("GET", `/clusters/${encode(id)}/metrics?serviceName=${encode(service)}`),
  settings: (id) => call("GET", `/clusters/${encode(id)}/settings`),
  changeSettings: (id, settings) => call("PUT", `/clusters/${encode(id)}/settings`, { body: settings }),
};
