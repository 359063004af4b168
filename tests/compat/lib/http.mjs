// Plain-fetch access to the HTTP contract (docs: /work/shared/design/HTTP-CONTRACT.md).
import crypto from "node:crypto";
import https from "node:https";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * The part of fetch the tests use, over node:https trusting the PEM certificates `ca`:
 * fetch cannot be given a CA, and NODE_EXTRA_CA_CERTS is read only when a process starts.
 */
export function fetchTrusting(ca, url, { method = "GET", headers = {}, body, signal } = {}) {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, headers, ca, signal }, (res) => {
      const chunks = [];
      res.on("data", (chunk) => chunks.push(chunk));
      res.on("error", reject);
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({ status: res.statusCode, text: async () => text });
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

/**
 * A client for one base URL and one secret (API secret or management secret); `ca`
 * (PEM text) is the certificate an https server is trusted by.
 */
export class Api {
  constructor(baseUrl, secret, { machineId, ca } = {}) {
    this.baseUrl = baseUrl;
    this.secret = secret;
    this.machineId = machineId ?? `m-${crypto.randomBytes(4).toString("hex")}`;
    this.fetch = ca ? (url, init) => fetchTrusting(ca, url, init) : fetch;
  }

  /** {status, body (parsed JSON, text, or null), text}; throws only on network errors. */
  async request(method, path, { body, headers = {}, signal } = {}) {
    const res = await this.fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        ...(this.secret !== undefined && { authorization: `Basic ${this.secret}` }),
        ...(body !== undefined && { "content-type": "application/json" }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
    const text = await res.text();
    let parsed = null;
    if (text.length > 0) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    return { status: res.status, body: parsed, text };
  }

  get(path, options) {
    return this.request("GET", path, options);
  }

  post(path, body, options = {}) {
    return this.request("POST", path, { ...options, body });
  }

  /** Like post/get but throws unless the status is `expected`; returns the body. */
  async expect(expected, method, path, body, options = {}) {
    const res = await this.request(method, path, { ...options, body });
    if (res.status !== expected) {
      throw new Error(`${method} ${path}: expected ${expected}, got ${res.status} ${res.text.slice(0, 500)}`);
    }
    return res.body;
  }

  // --- data routes -------------------------------------------------------------------

  createJob({ service, targetFn, targetArgs, callConfig }) {
    return this.expect(201, "POST", "/jobs", { service, targetFn, targetArgs, callConfig });
  }

  /** POST /jobs-request as machine `this.machineId`. */
  requestJobs({ service, limit = 1, ttl = 5000, functions, signal }) {
    return this.expect(
      200,
      "POST",
      "/jobs-request",
      { service, limit, ttl, ...(functions && { functions }) },
      { headers: { "x-machine-id": this.machineId }, signal },
    );
  }

  postResult(jobId, { result, resultType = "resolution", functionExecutionTime }) {
    return this.expect(
      204,
      "POST",
      `/jobs/${encodeURIComponent(jobId)}/result`,
      { result, resultType, ...(functionExecutionTime !== undefined && { functionExecutionTime }) },
      { headers: { "x-machine-id": this.machineId } },
    );
  }

  jobStatus(jobId, ttl = 5000) {
    return this.expect(200, "GET", `/jobs/${encodeURIComponent(jobId)}?ttl=${ttl}`);
  }

  batchStatus(jobIds, ttl = 5000) {
    return this.expect(200, "POST", "/batch-jobs-status-request", { jobIds, ttl });
  }

  /** Polls GET /jobs/:id until the job is terminal (success or failure). */
  async waitForJob(jobId, { timeoutMs = 30_000 } = {}) {
    const deadline = Date.now() + timeoutMs;
    let last;
    while (Date.now() < deadline) {
      last = await this.jobStatus(jobId, 5000);
      if (last.status === "success" || last.status === "failure") return last;
      await sleep(100); // in case the server answers at once instead of long-polling
    }
    throw new Error(`job ${jobId} not terminal after ${timeoutMs} ms; last ${JSON.stringify(last)}`);
  }

  // --- management routes ------------------------------------------------------------

  /** POST /clusters then GET /clusters; the cluster with this description. */
  async createCluster(description) {
    await this.expect(204, "POST", "/clusters", { description });
    const clusters = await this.expect(200, "GET", "/clusters");
    const mine = clusters.filter((c) => c.description === description);
    if (mine.length !== 1) {
      throw new Error(`GET /clusters: expected one cluster described '${description}', got ${JSON.stringify(clusters)}`);
    }
    return mine[0];
  }
}

/** Runs `fn` over `items` with at most `limit` in flight; results in input order. */
export async function mapConcurrent(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  });
  await Promise.all(lanes);
  return results;
}
