// callConfig.timeoutSeconds + retryCountOnStall: a running job that does not report within
// the timeout is stalled and retried while attempts remain, else it fails and the SDK
// rejects with DifferentialError.EXECUTION_DID_NOT_COMPLETE.
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";

import { compatTest, since } from "./lib/harness.mjs";
import { DifferentialError } from "./fixtures/sdk.mjs";

compatTest("timeout retry: a hanging attempt is retried; without retries the call fails", async (env, t) => {
  const worker = await env.startWorker("timeouts", { jobPollWaitTime: 5000 });
  // One caller process per call. The SDK's results poller forces an extra poll for each
  // call added while a poll is out, so one process with several calls has several polls
  // out; when a job fails, each of them reports it and the SDK crashes handling the
  // second (results-poller.js sets `.result` on the job it already deleted: its failure
  // branch lacks the existence check its success branch has).
  const [callerA, callerB, callerC] = await Promise.all([
    env.startCaller(),
    env.startCaller(),
    env.startCaller(),
  ]);
  const attempts = (key) => worker.reports("attempt").filter((m) => m.key === key).length;

  const start = Date.now();
  const [retried, failed, exhausted] = await Promise.all([
    // hangs on attempt 1, answers on attempt 2
    callerA.call("slow", "flaky", ["a", { $d: { timeoutSeconds: 2, retryCountOnStall: 1 } }]),
    // hangs, no retry allowed
    callerB.call("slow", "hang", ["b", { $d: { timeoutSeconds: 2, retryCountOnStall: 0 } }]),
    // hangs on every attempt: two attempts, then failure
    callerC.call("slow", "hang", ["c", { $d: { timeoutSeconds: 2, retryCountOnStall: 1 } }]),
  ]);
  t.diagnostic(
    `retried answered after ${retried.ms} ms, failed after ${failed.ms} ms, exhausted after ${exhausted.ms} ms (all: ${since(start)})`,
  );

  assert.ok(retried.ok, `flaky call should succeed on its retry: ${JSON.stringify(retried.error)}`);
  assert.deepStrictEqual(retried.value, { key: "a", attempt: 2 });
  assert.ok(retried.ms >= 2000, `the retry cannot come before the 2 s timeout (${retried.ms} ms)`);

  for (const [name, reply] of [["retryCountOnStall 0", failed], ["retries exhausted", exhausted]]) {
    assert.equal(reply.ok, false, `${name}: a hanging call must fail`);
    assert.equal(reply.error.name, "DifferentialError", `${name}: ${JSON.stringify(reply.error)}`);
    assert.equal(reply.error.message, DifferentialError.EXECUTION_DID_NOT_COMPLETE);
    assert.ok(reply.ms >= 2000, `${name}: failed before the timeout (${reply.ms} ms)`);
  }

  // Give the server time for any (wrong) extra attempt, then count.
  await sleep(3000);
  assert.equal(attempts("a"), 2, "flaky: exactly two attempts");
  assert.equal(attempts("b"), 1, "retryCountOnStall 0: exactly one attempt");
  assert.equal(attempts("c"), 2, "retryCountOnStall 1: exactly two attempts");
});
