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
  clusterSecrets.clear();
}

/** An error the pages show as it is: `kind` is "unreachable", "unauthorized" or "http". */
export class ApiError extends Error {
  constructor(kind, message, status = 0) {
    super(message);
    this.kind = kind;
    this.status = status;
  }
}

/**
 * Calls a route of this server; resolves with the parsed JSON body (null for 204).
 * `clusterSecret`: the route takes a cluster's API secret, whose refusal is an error of
 * that cluster, not of the management secret (it does not sign the tab out).
 */
export async function call(method, path, { body, secretOverride, clusterSecret, timeoutMs = 10_000 } = {}) {
  const token = clusterSecret ?? secretOverride ?? secret();
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
  if (response.status === 401 && clusterSecret !== undefined) {
    throw new ApiError("http", `${method} ${path}: the server refused the cluster's API secret.`, 401);
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

/**
 * The clusters' API secrets, fetched with the management secret when a page first
 * needs one (the resource routes take the cluster's secret, not the management one).
 * Kept in this module's memory only: a reload or sign-out forgets them.
 */
const clusterSecrets = new Map();

/** The promise of the cluster's API secret: parallel first calls share one fetch. */
function clusterSecret(clusterId) {
  if (!clusterSecrets.has(clusterId)) {
    const fetched = call("GET", "/clusters").then((clusters) => {
      const cluster = clusters.find((c) => c.id === clusterId);
      if (!cluster) throw new ApiError("http", `No cluster ${clusterId} on this server.`, 404);
      return cluster.apiSecret;
    });
    fetched.catch(() => clusterSecrets.delete(clusterId));
    clusterSecrets.set(clusterId, fetched);
  }
  return clusterSecrets.get(clusterId);
}

/** A route under the cluster's API secret; a refused secret is fetched again next time. */
async function clusterCall(clusterId, method, path) {
  try {
    return await call(method, path, { clusterSecret: await clusterSecret(clusterId) });
  } catch (error) {
    if (error.status === 401) clusterSecrets.delete(clusterId);
    throw error;
  }
}

/** "?a=1&b=2" of the parameters that are set (empty string: none). */
function query(parameters) {
  const set = Object.entries(parameters).filter(([, value]) => value !== undefined && value !== null && value !== "");
  return set.length === 0 ? "" : `?${set.map(([name, value]) => `${name}=${encode(value)}`).join("&")}`;
}

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
  nodes: () => call("GET", "/nodes"),
  resources: (id, { kind, state, namespace, limit, cursor } = {}) =>
    clusterCall(id, "GET", `/resources${query({ kind, state, namespace, limit, cursor })}`),
  resource: (id, kind, resourceId) => clusterCall(id, "GET", `/resources/${encode(kind)}/${encode(resourceId)}`),
  resourceCounts: (id, { kind, namespace } = {}) => clusterCall(id, "GET", `/resources-counts${query({ kind, namespace })}`),
  resourceKind: (id, kind) => clusterCall(id, "GET", `/resources-kinds/${encode(kind)}`),
};
