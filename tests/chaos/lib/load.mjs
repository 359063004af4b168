// Steady HTTP load for the chaos tests: callers that create jobs the way docs/semantics.md
// tells a caller to (each call has an executionId, and a call that failed or timed out
// is retried with the same one until it is acknowledged), a probe that sends one fresh
// create every 100 ms (to see when service resumes), and workers that run every job.
import crypto from "node:crypto";
import fs from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

import { pack, unpack } from "../../compat/fixtures/sdk.mjs";

const SERVICE = "chaos";
const callConfig = { retryCountOnStall: 5, predictiveRetriesOnRejection: false, timeoutSeconds: 60 };

export class Load {
  constructor(endpoint, apiSecret, { callers = 8, workers = 2, callTimeoutMs = 3000 } = {}) {
    this.endpoint = endpoint;
    this.secret = apiSecret;
    this.callers = callers;
    this.workers = workers;
    this.callTimeoutMs = callTimeoutMs;
    this.prefix = `chaos-${crypto.randomBytes(4).toString("hex")}`;
    this.next = 0;
    /** executionId -> {i, acked} */
    this.calls = new Map();
    /** Every create attempt: {sentAt, answeredAt, status, retryAfter, probe}. */
    this.attempts = [];
    /** jobId -> how many times a worker got it. */
    this.executions = new Map();
    this.stopCalls = false;
    this.stopWorkers = new AbortController();
    this.loops = [];
  }

  headers(extra = {}) {
    return { authorization: `Basic ${this.secret}`, "content-type": "application/json", ...extra };
  }

  /** One create attempt; returns its record. Status 0: timeout or network error. */
  async createOnce(executionId, i, probe) {
    const record = { sentAt: Date.now(), answeredAt: 0, status: 0, retryAfter: null, message: null, probe };
    this.attempts.push(record);
    try {
      const res = await fetch(`${this.endpoint}/jobs`, {
        method: "POST",
        headers: this.headers(),
        body: JSON.stringify({ service: SERVICE, targetFn: "double", targetArgs: pack([i], true), callConfig: { ...callConfig, executionId } }),
        signal: AbortSignal.timeout(this.callTimeoutMs),
      });
      record.status = res.status;
      record.retryAfter = res.headers.get("retry-after");
      const body = await res.json().catch(() => null);
      record.message = body?.message;
      if (res.status === 201 && body?.id !== executionId) throw new Error(`create ${executionId} answered id ${body?.id}`);
    } catch (err) {
      if (err.message.startsWith("create ")) throw err;
    }
    record.answeredAt = Date.now();
    return record;
  }

  newCall() {
    const i = this.next++;
    const executionId = `${this.prefix}-${i}`;
    const call = { i, acked: false };
    this.calls.set(executionId, call);
    return [executionId, call];
  }

  async callerLoop() {
    while (!this.stopCalls) {
      const [executionId, call] = this.newCall();
      while (!this.stopCalls) {
        const attempt = await this.createOnce(executionId, call.i, false);
        if (attempt.status === 201) {
          call.acked = true;
          break;
        }
        const wait = attempt.retryAfter ? Number(attempt.retryAfter) * 1000 : 200;
        await sleep(Math.min(wait, 1000));
      }
    }
  }

  async probeLoop() {
    const inFlight = new Set();
    while (!this.stopCalls) {
      const [executionId, call] = this.newCall();
      const p = this.createOnce(executionId, call.i, true).then((a) => {
        call.acked = a.status === 201;
        inFlight.delete(p);
      });
      inFlight.add(p);
      await sleep(100);
    }
    await Promise.allSettled([...inFlight]);
  }

  async workerLoop(machineId) {
    const stop = this.stopWorkers.signal;
    while (!stop.aborted) {
      let jobs = [];
      try {
        const res = await fetch(`${this.endpoint}/jobs-request`, {
          method: "POST",
          headers: this.headers({ "x-machine-id": machineId }),
          body: JSON.stringify({ service: SERVICE, limit: 100, ttl: 5000, functions: [{ name: "double" }] }),
          signal: AbortSignal.any([stop, AbortSignal.timeout(15_000)]),
        });
        if (res.status === 200) jobs = await res.json();
        else {
          this.pollErrors = `${res.status} ${await res.text()}`;
          await sleep(200);
        }
      } catch (err) {
        if (stop.aborted) return;
        this.pollErrors = err.message;
        await sleep(200);
        continue;
      }
      await Promise.all(jobs.map((job) => this.answer(machineId, job)));
    }
  }

  /** Runs a job and posts its result until the server accepts it (or the job is gone). */
  async answer(machineId, job) {
    this.executions.set(job.id, (this.executions.get(job.id) ?? 0) + 1);
    const [i] = unpack(job.targetArgs);
    const body = JSON.stringify({ result: pack({ i, doubled: 2 * i }, true), resultType: "resolution", functionExecutionTime: 0 });
    for (let tries = 0; tries < 100 && !this.stopWorkers.signal.aborted; tries++) {
      try {
        const res = await fetch(`${this.endpoint}/jobs/${encodeURIComponent(job.id)}/result`, {
          method: "POST",
          headers: this.headers({ "x-machine-id": machineId }),
          body,
          signal: AbortSignal.timeout(15_000),
        });
        if (res.status === 204 || res.status === 404) return;
      } catch {
        // retried
      }
      await sleep(200);
    }
  }

  start() {
    for (let k = 0; k < this.callers; k++) this.loops.push(this.callerLoop());
    this.loops.push(this.probeLoop());
    this.workerLoops = Array.from({ length: this.workers }, (_, k) => this.workerLoop(`${this.prefix}-m${k}`));
  }

  /** Stops creating; calls not acknowledged by then stay so. */
  async stopCreating() {
    this.stopCalls = true;
    await Promise.allSettled(this.loops);
  }

  async stopWorking() {
    this.stopWorkers.abort();
    await Promise.allSettled(this.workerLoops);
  }

  ackedIds() {
    return [...this.calls].filter(([, c]) => c.acked).map(([id]) => id);
  }

  /**
   * Waits until every acknowledged call has succeeded with its own result; resolves with
   * {acked, succeeded, wrong, missing}.
   */
  async verify(timeoutMs = 60_000) {
    const ids = this.ackedIds();
    const deadline = Date.now() + timeoutMs;
    let statuses = new Map();
    for (;;) {
      statuses = new Map();
      for (let k = 0; k < ids.length; k += 1000) {
        const res = await fetch(`${this.endpoint}/batch-jobs-status-request`, {
          method: "POST",
          headers: this.headers(),
          body: JSON.stringify({ jobIds: ids.slice(k, k + 1000), ttl: 5000 }),
        });
        if (res.status !== 200) throw new Error(`batch status: ${res.status} ${await res.text()}`);
        for (const s of await res.json()) statuses.set(s.id, s);
      }
      const done = ids.filter((id) => statuses.get(id)?.status === "success").length;
      if (done === ids.length || Date.now() > deadline) break;
      await sleep(500);
    }
    const wrong = [];
    const missing = [];
    for (const id of ids) {
      const s = statuses.get(id);
      if (s?.status !== "success") {
        missing.push({ id, status: s?.status ?? "unknown" });
        continue;
      }
      const { i } = this.calls.get(id);
      if (s.resultType !== "resolution" || JSON.stringify(unpack(s.result)) !== JSON.stringify({ i, doubled: 2 * i })) wrong.push(id);
    }
    return { acked: ids.length, succeeded: ids.length - missing.length, wrong, missing };
  }

  /** Create attempts answered (or given up) within [from, to) of their sending. */
  attemptsSent(from, to) {
    return this.attempts.filter((a) => a.sentAt >= from && a.sentAt < to);
  }
}

/** The server's resident memory in MB. */
export function rssMb(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
  return kb / 1024;
}
