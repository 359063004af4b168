// Failover of a three-node control plane: three servers on one database, an SDK worker
// and an SDK caller connected to two different nodes, steady calls, then kill -9 of the
// node that owns the cluster. Every call must complete with its own answer, every job
// must end in success in the database, and the takeover time is printed.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import crypto from "node:crypto";
import net from "node:net";
import path from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";

import { Caller, Worker, since } from "../compat/lib/harness.mjs";
import { Api } from "../compat/lib/http.mjs";
import { tail } from "../compat/lib/processes.mjs";
import { compatDir, createDatabase, randomManagementSecret, Server } from "../compat/lib/server.mjs";

const CALLS = Number(process.env.DIFFPLANE_FAILOVER_CALLS ?? 150);
const IN_FLIGHT = 10;
const LEASE_TTL_MS = 1500;

/** A TCP port of 127.0.0.1 that was free a moment ago. */
async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function sql(databaseUrl, query) {
  const { stdout } = await promisify(execFile)("psql", [databaseUrl, "-Atc", query]);
  return stdout.trim();
}

test("failover: a three-node control plane survives kill -9 of the owner under load", { timeout: 240_000 }, async (t) => {
  const log = (line) => {
    t.diagnostic(line);
    process.stderr.write(`# ${line}\n`);
  };
  const databaseUrl = await createDatabase();
  const managementSecret = randomManagementSecret();
  const servers = [];
  const children = [];
  try {
    for (let i = 1; i <= 3; i++) {
      servers.push(
        await Server.start({
          databaseUrl,
          managementSecret,
          extraArgs: ["--node-id", `n${i}`, "--lease-ttl-ms", String(LEASE_TTL_MS), "--node-heartbeat-ms", "250", "--caf-port", String(await freePort())],
        }),
      );
    }
    const management = new Api(servers[0].url, managementSecret);
    const cluster = await management.createCluster(`failover-${crypto.randomBytes(4).toString("hex")}`);
    // Let the hand-offs to the cluster's preferred owner settle, then find it.
    let owner = null;
    for (let i = 0; i < 50 && owner === null; i++) {
      await sleep(200);
      const view = await management.expect(200, "GET", "/nodes");
      const lease = view.leases.find((l) => l.clusterId === cluster.id);
      if (view.nodes.length === 3 && lease && !lease.expired) owner = lease.nodeId;
    }
    assert.ok(owner, "the cluster has an owner");
    await sleep(1500);
    const view = await management.expect(200, "GET", "/nodes");
    owner = view.leases.find((l) => l.clusterId === cluster.id).nodeId;
    const ownerIndex = Number(owner.slice(1)) - 1;
    const others = servers.filter((_, i) => i !== ownerIndex);
    log(`cluster ${cluster.id} owned by ${owner}; worker on ${others[0].url}, caller on ${others[1].url}`);

    const fixtures = path.join(compatDir, "fixtures");
    const childEnv = (server) => ({ DIFFPLANE_ENDPOINT: server.url, DIFFPLANE_API_SECRET: cluster.apiSecret });
    const worker = new Worker(path.join(fixtures, "worker.mjs"), { args: ["parallel", JSON.stringify({ label: "w" })], env: childEnv(others[0]), name: "failover-worker" });
    children.push(worker);
    await worker.waitFor((m) => m.type === "ready", { what: "ready", timeoutMs: 20_000 });
    const caller = new Caller(path.join(fixtures, "caller.mjs"), { args: ["{}"], env: childEnv(others[1]), name: "failover-caller" });
    children.push(caller);
    await caller.waitFor((m) => m.type === "ready", { what: "ready", timeoutMs: 20_000 });

    let next = 0;
    let killedAt = null;
    let firstAfterKill = null;
    const replies = new Array(CALLS);
    const start = Date.now();
    const lane = async () => {
      while (next < CALLS) {
        const i = next++;
        if (i === Math.floor(CALLS / 3)) {
          killedAt = Date.now();
          await servers[ownerIndex].kill9();
          log(`killed ${owner} after ${i} calls`);
        }
        const issuedAt = Date.now();
        replies[i] = await caller.call("par", "square", [i], { timeoutMs: 60_000 });
        if (killedAt !== null && issuedAt >= killedAt && firstAfterKill === null) firstAfterKill = Date.now() - killedAt;
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
    log(`${CALLS} calls in ${since(start)}; first call issued after the kill answered ${firstAfterKill} ms after it (lease TTL ${LEASE_TTL_MS} ms)`);
    for (let i = 0; i < CALLS; i++) {
      assert.ok(replies[i]?.ok, `call ${i}: ${JSON.stringify(replies[i])}`);
      assert.equal(replies[i].value.square, i * i, `call ${i} got its own answer`);
    }
    // A call the SDK tried again after an error may have left a second job, which the
    // worker still runs: every job ends in success, soon.
    const notSuccess = `SELECT id, status, attempts_used FROM jobs WHERE cluster_id = '${cluster.id}' AND status <> 'success'`;
    let notDone = await sql(databaseUrl, notSuccess);
    for (let i = 0; i < 100 && notDone !== ""; i++) {
      await sleep(200);
      notDone = await sql(databaseUrl, notSuccess);
    }
    assert.equal(notDone, "", "every job ended in success");
    const total = Number(await sql(databaseUrl, `SELECT count(*) FROM jobs WHERE cluster_id = '${cluster.id}'`));
    log(`${total} jobs for ${CALLS} calls`);
    assert.ok(total >= CALLS, "a job per call at least");
    const overlaps = await sql(
      databaseUrl,
      "SELECT count(*) FROM lease_history a JOIN lease_history b ON a.cluster_id = b.cluster_id AND b.epoch = a.epoch + 1 WHERE a.ended_at IS NULL OR a.ended_at > b.acquired_at",
    );
    assert.equal(overlaps, "0", "no two nodes held a lease at once");
  } catch (err) {
    for (const server of servers) process.stderr.write(`\n--- tail of ${server.logFile}\n${server.logTail(60)}\n`);
    for (const child of children) process.stderr.write(`\n--- tail of ${child.logFile}\n${tail(child.logFile, 30)}\n`);
    throw err;
  } finally {
    await Promise.all(children.map((c) => c.kill("SIGKILL")));
    await Promise.all(servers.map((s) => s.stop()));
  }
});
