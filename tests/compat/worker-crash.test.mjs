// A worker is SIGKILLed while it executes a call. The server notices the machine went
// silent (--machine-stall-seconds 3), stalls its job and hands it out again; a second
// worker of the same service finishes it and the caller gets that result.
import assert from "node:assert/strict";

import { compatTest, since } from "./lib/harness.mjs";

compatTest("worker crash: a job of a SIGKILLed worker is finished by another worker", { machineStallSeconds: 3 }, async (env, t) => {
  const workerA = await env.startWorker("crash", { label: "A", hang: true, jobPollWaitTime: 5000 });
  const caller = await env.startCaller();

  const reply = caller.call("crashy", "work", ["job-1", { $d: { retryCountOnStall: 1, timeoutSeconds: 60 } }], {
    timeoutMs: 60_000,
  });
  await workerA.waitFor((m) => m.type === "executing" && m.x === "job-1", { what: "A executing job-1" });

  const killedAt = Date.now();
  const exit = await workerA.kill("SIGKILL");
  assert.equal(exit.signal, "SIGKILL");
  t.diagnostic("worker A killed while executing job-1");

  const workerB = await env.startWorker("crash", { label: "B", jobPollWaitTime: 5000 });
  const result = await reply;
  t.diagnostic(`caller got the result ${since(killedAt)} after the kill (machine stall 3 s)`);

  assert.ok(result.ok, `call failed: ${JSON.stringify(result.error)}`);
  assert.deepStrictEqual(result.value, { x: "job-1", by: "B" });
  assert.equal(workerB.reports("executing").length, 1, "B ran the job once");
});

compatTest("worker crash: with two workers running, the survivor takes over", { machineStallSeconds: 3 }, async (env, t) => {
  // A hangs, B answers. Both poll before the call, so either may get the first attempt;
  // if B gets it the call simply succeeds, else A is killed and B must get the retry.
  const workerA = await env.startWorker("crash", { label: "A", hang: true, jobPollWaitTime: 5000 });
  const workerB = await env.startWorker("crash", { label: "B", jobPollWaitTime: 5000 });
  const caller = await env.startCaller();

  const reply = caller.call("crashy", "work", ["job-2", { $d: { retryCountOnStall: 1, timeoutSeconds: 60 } }], {
    timeoutMs: 60_000,
  });
  const executing = [workerA, workerB].map((w) => {
    const p = w.waitFor((m) => m.type === "executing", { what: `${w.name} executing` });
    p.catch(() => {}); // the loser may reject when A is killed
    return p;
  });
  const first = await Promise.race(executing);
  t.diagnostic(`first attempt went to ${first.label}`);
  const killedAt = Date.now();
  await workerA.kill("SIGKILL");

  const result = await reply;
  t.diagnostic(`caller got the result ${since(killedAt)} after A was killed`);
  assert.ok(result.ok, `call failed: ${JSON.stringify(result.error)}`);
  assert.deepStrictEqual(result.value, { x: "job-2", by: "B" });
});
