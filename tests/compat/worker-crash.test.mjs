// A worker is SIGKILLed while it executes a call. The server notices the machine went
// silent (--machine-stall-seconds 3), stalls its attempt and hands the job out again; a
// second worker of the same service finishes it and the caller gets that result.
//
// The first attempt always goes to the worker that is killed: it is the only worker of the
// service until it reports that it executes the job. The job's timeout (300 s) lies far
// beyond the deadline, so only the stall of the silent machine can bring the job to the
// second worker: if the server never stalls it, the caller gets no result in time.
import assert from "node:assert/strict";

import { compatTest, since } from "./lib/harness.mjs";

const callConfig = { $d: { retryCountOnStall: 1, timeoutSeconds: 300 } };
// From the kill: A's parked poll counts as a sign of life until its ttl (5 s) ends, then
// 3 s of silence, the stall, and B's next poll (the SDK waits 2 s between polls).
const TAKEOVER_DEADLINE_MS = 30_000;

/** Resolves like `promise`, or rejects once `deadline` (a Date.now() value) has passed. */
function byDeadline(promise, deadline, what) {
  let timer;
  const expired = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} by the deadline`)), deadline - Date.now());
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/**
 * A executes the call and is killed; B starts before or after the kill. Checks that B
 * finished the job exactly once, after the server stalled A's attempt.
 */
async function takeover(env, t, { x, startB }) {
  const workerA = await env.startWorker("crash", { label: "A", hang: true, jobPollWaitTime: 5000 });
  const caller = await env.startCaller();
  const reply = caller.call("crashy", "work", [x, callConfig], { timeoutMs: 120_000 });
  await workerA.waitFor((m) => m.type === "executing" && m.x === x, { what: `A executing ${x}` });

  let workerB;
  if (startB === "before the kill") workerB = await env.startWorker("crash", { label: "B", jobPollWaitTime: 5000 });
  const killedAt = Date.now();
  const exit = await workerA.kill("SIGKILL");
  assert.equal(exit.signal, "SIGKILL");
  if (startB === "after the kill") workerB = await env.startWorker("crash", { label: "B", jobPollWaitTime: 5000 });

  const result = await byDeadline(reply, killedAt + TAKEOVER_DEADLINE_MS, "result for the caller");
  t.diagnostic(`B started ${startB}; the caller got the result ${since(killedAt)} after the kill`);
  assert.ok(result.ok, `call failed: ${JSON.stringify(result.error)}`);
  assert.deepStrictEqual(result.value, { x, by: "B" });
  assert.equal(workerA.reports("executing").length, 1, "A got the first attempt only");
  assert.equal(workerB.reports("executing").length, 1, "B ran the job once");

  // The server's record: two attempts, the first stalled on A's silence, B's result stored.
  const [machineA, machineB] = [workerA, workerB].map((w) => w.reports("ready")[0].machineId);
  const cluster = await env.management.expect(200, "GET", `/clusters/${env.cluster.id}`);
  const jobs = cluster.jobs.filter((j) => j.service === "crashy");
  assert.equal(jobs.length, 1, `one crashy job: ${JSON.stringify(cluster.jobs)}`);
  const job = await env.management.expect(200, "GET", `/clusters/${env.cluster.id}/jobs/${jobs[0].id}`);
  assert.equal(job.status, "success");
  assert.equal(job.attempts, 2);
  assert.equal(job.machineId, machineB);
  const stalls = job.activity.filter((a) => a.type === "jobStalled");
  assert.deepStrictEqual(
    stalls.map((a) => ({ machineId: a.machineId, reason: a.meta.reason, status: a.meta.status })),
    [{ machineId: machineA, reason: "machine stopped polling", status: "pending" }],
    `the stalls: ${JSON.stringify(job.activity)}`,
  );
}

compatTest("worker crash: a job of a SIGKILLed worker is finished by a worker started later", { machineStallSeconds: 3 }, (env, t) =>
  takeover(env, t, { x: "job-1", startB: "after the kill" }),
);

compatTest("worker crash: a worker already polling takes over the job of a SIGKILLed one", { machineStallSeconds: 3 }, (env, t) =>
  takeover(env, t, { x: "job-2", startB: "before the kill" }),
);
