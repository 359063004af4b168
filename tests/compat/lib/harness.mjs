// The shared setup of the compatibility tests: a server on its own port and database, a
// cluster, SDK worker and caller processes; everything torn down even when a test fails.
//
//   import { compatTest } from "./lib/harness.mjs";
//   compatTest("name", { machineStallSeconds: 3 }, async (env, t) => {
//     const worker = await env.startWorker("services-module", { label: "A" });
//     const caller = await env.startCaller();
//     const reply = await caller.call("svc", "fn", [1, 2]);
//   });
import assert from "node:assert/strict";
import crypto from "node:crypto";
import path from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";

import { Api } from "./http.mjs";
import { NodeChild, tail } from "./processes.mjs";
import { compatDir, makeCertificate, Server } from "./server.mjs";

const fixtures = path.join(compatDir, "fixtures");

/** A worker process running the SDK's `d.service(...).start()`. */
export class Worker extends NodeChild {
  /** Messages the service functions reported with this type (e.g. "executed"). */
  reports(type) {
    return this.messages.filter((m) => m.type === type);
  }
}

/** A caller process; `call` makes one SDK call there and resolves with its reply. */
export class Caller extends NodeChild {
  nextCallId = 0;

  /**
   * Resolves with {ok, value, valueType, error, ms}; `value` crossed the IPC channel with
   * structured clone (a Buffer arrives as a Uint8Array; `valueType` names the type the
   * SDK returned).
   */
  call(service, fn, args = [], { background = false, timeoutMs = 60_000 } = {}) {
    const callId = ++this.nextCallId;
    const reply = this.waitFor((m) => m.type === "reply" && m.callId === callId, {
      timeoutMs,
      what: `the reply to ${service}.${fn}`,
      past: false,
    });
    reply.catch(() => {}); // a caller killed during cleanup must not be an unhandled rejection
    this.send({ type: "call", callId, service, fn, args, background });
    return reply;
  }
}

export class Env {
  constructor(name, options = {}) {
    this.name = name;
    this.options = options;
    this.children = [];
    this.servers = [];
    this.cleanedUp = false;
  }

  async start() {
    // options.tls: HTTPS with a self-signed certificate, trusted by the SDK processes
    // through NODE_EXTRA_CA_CERTS as a user would.
    this.tls = this.options.tls ? await makeCertificate() : null;
    this.server = await Server.start({
      machineStallSeconds: this.options.machineStallSeconds,
      tls: this.tls ?? undefined,
      extraArgs: this.options.serverArgs,
    });
    this.servers.push(this.server);
    this.endpoint = this.server.url;
    const ca = this.tls?.ca;
    this.management = new Api(this.endpoint, this.server.managementSecret, { ca });
    const description = `${this.name}-${crypto.randomBytes(4).toString("hex")}`;
    this.cluster = await this.management.createCluster(description);
    this.api = new Api(this.endpoint, this.cluster.apiSecret, { ca });
  }

  childEnv() {
    return {
      DIFFPLANE_ENDPOINT: this.endpoint,
      DIFFPLANE_API_SECRET: this.cluster.apiSecret,
      DEBUG: process.env.DEBUG ?? "",
      ...(this.tls && { NODE_EXTRA_CA_CERTS: this.tls.cert }),
    };
  }

  /** Starts fixtures/worker.mjs serving fixtures/services/<services>.mjs; waits for ready. */
  async startWorker(services, options = {}) {
    const label = options.label ?? `worker${this.children.length + 1}`;
    const worker = new Worker(path.join(fixtures, "worker.mjs"), {
      args: [services, JSON.stringify({ ...options, label })],
      env: this.childEnv(),
      name: `${services}-${label}`,
    });
    this.children.push(worker);
    await worker.waitFor((m) => m.type === "ready", { what: "ready", timeoutMs: 20_000 });
    return worker;
  }

  /** Starts fixtures/caller.mjs; waits for ready. */
  async startCaller(options = {}) {
    const caller = new Caller(path.join(fixtures, "caller.mjs"), {
      args: [JSON.stringify(options)],
      env: this.childEnv(),
      name: `caller${this.children.length + 1}`,
    });
    this.children.push(caller);
    await caller.waitFor((m) => m.type === "ready", { what: "ready", timeoutMs: 20_000 });
    return caller;
  }

  dumpLogs() {
    for (const server of this.servers) {
      process.stderr.write(`\n--- tail of ${server.logFile}\n${server.logTail(80)}\n`);
    }
    for (const child of this.children) {
      process.stderr.write(`\n--- tail of ${child.logFile}\n${tail(child.logFile, 30)}\n`);
    }
  }

  /** Kills the SDK processes, then stops the server(s) with SIGTERM. */
  async cleanup() {
    if (this.cleanedUp) return;
    this.cleanedUp = true;
    await Promise.all(this.children.map((c) => c.kill("SIGKILL")));
    const stopStart = Date.now();
    const exits = await Promise.all(this.servers.map((s) => s.stop()));
    this.serverStopMs = Date.now() - stopStart;
    this.serverExits = exits;
  }
}

/**
 * A node:test test with a fresh Env. On failure the server and child log tails are
 * printed; the Env is always cleaned up (also when node:test cancels the test on timeout).
 */
export function compatTest(name, options, fn) {
  if (typeof options === "function") [options, fn] = [{}, options];
  test(name, { timeout: options.timeout ?? 120_000 }, async (t) => {
    const env = new Env(name.replace(/[^a-z0-9]+/gi, "-").toLowerCase(), options);
    const onAbort = () => env.cleanup();
    t.signal.addEventListener("abort", onAbort);
    try {
      await env.start();
      await fn(env, t);
    } catch (err) {
      env.dumpLogs();
      throw err;
    } finally {
      t.signal.removeEventListener("abort", onAbort);
      await env.cleanup();
      if (env.serverStopMs > 2000) t.diagnostic(`note: the server took ${env.serverStopMs} ms to stop on SIGTERM`);
      for (const exit of env.serverExits ?? []) {
        if (exit && (exit.code !== 0 || exit.signal)) {
          t.diagnostic(`note: server did not exit cleanly on SIGTERM: ${JSON.stringify(exit)}`);
        }
      }
    }
  });
}

/** ms since `start`, formatted. */
export function since(start) {
  return `${((Date.now() - start) / 1000).toFixed(2)} s`;
}

/** Polls GET /resources/:kind/:id until its state is `state`; answers the resource. */
export async function waitForResourceState(env, kind, id, state, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await env.api.request("GET", `/resources/${kind}/${id}`);
    if (last.status === 200 && last.body.state === state) return last.body;
    await sleep(100);
  }
  assert.fail(`resource ${kind}/${id} is ${JSON.stringify(last?.body)}, not ${state}`);
}
