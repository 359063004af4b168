// Durability across a server crash: create 10,000 jobs (POST /jobs, ~50 in flight), kill -9
// the server, restart it on the same database, drain every job with fetch-based workers
// (POST /jobs-request with limit 100, no SDK throttle), and check that every id the
// server answered 201 for ends in status success with its own result.
// DIFFPLANE_E2E_JOBS overrides the job count (default 10000).
import assert from "node:assert/strict";
import crypto from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";

import { compatTest, since } from "../compat/lib/harness.mjs";
import { Api, mapConcurrent } from "../compat/lib/http.mjs";
import { pack, unpack } from "../compat/fixtures/sdk.mjs";

const JOBS = Number(process.env.DIFFPLANE_E2E_JOBS ?? 10_000);
const CREATE_CONCURRENCY = 50;
const WORKERS = 4;
const SERVICE = "e2e";
const callConfig = { retryCountOnStall: 3, predictiveRetriesOnRejection: false, timeoutSeconds: 300 };

/** Polls for jobs and answers them until `stop` is aborted. */
async function workerLoop(api, stop, seen, stats) {
  while (!stop.aborted) {
    let jobs;
    try {
      jobs = await api.requestJobs({ service: SERVICE, limit: 100, ttl: 5000, functions: [{ name: "double" }], signal: stop });
    } catch (err) {
      if (stop.aborted) return;
      stats.pollErrors += 1;
      stats.lastError = err.message;
      await sleep(200);
      continue;
    }
    stats.polls += 1;
    if (jobs.length > 0) stats.lastJobAt = Date.now();
    await mapConcurrent(jobs, 25, async (job) => {
      seen.set(job.id, (seen.get(job.id) ?? 0) + 1);
      try {
        const [i] = unpack(job.targetArgs);
        await api.postResult(job.id, {
          result: pack({ i, doubled: 2 * i }, true),
          resultType: "resolution",
          functionExecutionTime: 0,
        });
        stats.answered.add(job.id);
      } catch (err) {
        stats.resultErrors += 1;
        stats.lastError = `${job.id}: ${err.message}`;
      }
    });
  }
}

compatTest(`crash: ${JOBS} jobs survive kill -9 of the server and all complete`, { timeout: 280_000 }, async (env, t) => {
  const log = (line) => {
    t.diagnostic(line);
    process.stderr.write(`# ${line}\n`);
  };

  // 1. Create.
  let start = Date.now();
  const ids = await mapConcurrent(
    Array.from({ length: JOBS }, (_, i) => i),
    CREATE_CONCURRENCY,
    async (i) => (await env.api.createJob({ service: SERVICE, targetFn: "double", targetArgs: pack([i], true), callConfig })).id,
  );
  const createMs = Date.now() - start;
  log(`create: ${JOBS} jobs in ${since(start)} (${Math.round((JOBS * 1000) / createMs)} jobs/s, ${CREATE_CONCURRENCY} in flight)`);
  assert.equal(new Set(ids).size, JOBS, "distinct job ids");
  const indexOf = new Map(ids.map((id, i) => [id, i]));

  // 2. kill -9, restart on the same database.
  start = Date.now();
  const killed = await env.server.kill9();
  assert.equal(killed.signal, "SIGKILL", `server exit: ${JSON.stringify(killed)}`);
  const killMs = Date.now() - start;
  start = Date.now();
  await env.server.restart();
  log(`crash: killed in ${killMs} ms; restarted and live in ${since(start)}`);

  // 3. Drain with fetch-based workers.
  start = Date.now();
  const stop = new AbortController();
  const seen = new Map();
  const stats = { polls: 0, pollErrors: 0, resultErrors: 0, answered: new Set(), lastError: null, lastJobAt: Date.now() };
  const workers = Array.from({ length: WORKERS }, () =>
    workerLoop(new Api(env.endpoint, env.cluster.apiSecret, { machineId: `e2e-${crypto.randomBytes(4).toString("hex")}` }), stop.signal, seen, stats),
  );
  const drainDeadline = Date.now() + 150_000;
  while (stats.answered.size < JOBS && Date.now() < drainDeadline && Date.now() - stats.lastJobAt < 20_000) {
    await sleep(100);
  }
  const drainMs = Date.now() - start;
  stop.abort(); // ends the parked polls

  await Promise.allSettled(workers);
  log(
    `drain: ${stats.answered.size}/${JOBS} jobs answered in ${(drainMs / 1000).toFixed(2)} s ` +
      `(${Math.round((stats.answered.size * 1000) / drainMs)} jobs/s, ${WORKERS} workers, ${stats.polls} polls, ${stats.pollErrors} poll errors, ${stats.resultErrors} result errors${stats.lastError ? `, last: ${stats.lastError}` : ""})`,
  );

  // 4. Verify through the batch status route, 1,000 ids at a time.
  start = Date.now();
  const statuses = new Map();
  for (let k = 0; k < ids.length; k += 1000) {
    const chunk = ids.slice(k, k + 1000);
    const answer = await env.api.batchStatus(chunk, 5000);
    for (const s of answer) statuses.set(s.id, s);
  }
  log(`verify: ${ids.length} statuses read in ${since(start)}`);

  const byStatus = {};
  const wrong = [];
  for (const id of ids) {
    const s = statuses.get(id);
    const status = s?.status ?? "missing";
    byStatus[status] = (byStatus[status] ?? 0) + 1;
    if (status !== "success") continue;
    const i = indexOf.get(id);
    if (s.resultType !== "resolution" || JSON.stringify(unpack(s.result)) !== JSON.stringify({ i, doubled: 2 * i })) {
      wrong.push({ id, i, s });
    }
  }
  log(`statuses: ${JSON.stringify(byStatus)}`);
  const neverDispatched = ids.filter((id) => !seen.has(id));
  assert.deepStrictEqual(byStatus, { success: JOBS }, `not all jobs succeeded; never dispatched: ${neverDispatched.length} (e.g. ${neverDispatched.slice(0, 3)})`);
  assert.deepStrictEqual(wrong.slice(0, 3), [], "results belong to their jobs");
  const duplicates = [...seen].filter(([, n]) => n > 1).length;
  assert.equal(duplicates, 0, "no job was dispatched twice");
  assert.equal([...seen.keys()].filter((id) => !indexOf.has(id)).length, 0, "no job we did not create");
});
