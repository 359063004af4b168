// 1,000 calls at once from one caller process to one worker process: every call gets its
// own, correct result and every function ran exactly once.
// (One SDK worker takes at most 50 jobs per poll and polls every 2 s, so this takes about
// 40 s by the SDK's design, not the server's.)
import assert from "node:assert/strict";

import { compatTest, since } from "./lib/harness.mjs";

const CALLS = 1000;

compatTest("parallel: 1,000 concurrent calls all return correct, distinct results", { timeout: 180_000 }, async (env, t) => {
  const worker = await env.startWorker("parallel", { jobPollWaitTime: 5000 });
  const caller = await env.startCaller();

  const start = Date.now();
  const replies = await Promise.all(
    Array.from({ length: CALLS }, (_, i) => caller.call("par", "square", [i], { timeoutMs: 150_000 })),
  );
  const elapsed = Date.now() - start;
  const ms = replies.map((r) => r.ms).sort((a, b) => a - b);
  t.diagnostic(
    `${CALLS} calls in ${since(start)} (${Math.round((CALLS * 1000) / elapsed)} calls/s); ` +
      `round trip p50 ${ms[CALLS / 2]} ms, max ${ms[CALLS - 1]} ms`,
  );

  const failures = replies.filter((r) => !r.ok);
  assert.equal(failures.length, 0, `failed calls: ${JSON.stringify(failures.slice(0, 3))}`);
  replies.forEach((reply, i) => {
    assert.deepStrictEqual(reply.value, { i, square: i * i, tag: `r${i}` }, `call ${i}`);
  });
  assert.equal(new Set(replies.map((r) => r.value.tag)).size, CALLS, "distinct results");

  const executed = worker.reports("executed").map((m) => m.i);
  const counts = new Map();
  for (const i of executed) counts.set(i, (counts.get(i) ?? 0) + 1);
  const twice = [...counts].filter(([, n]) => n > 1).map(([i]) => i);
  assert.equal(counts.size, CALLS, "every call executed");
  assert.deepStrictEqual(twice, [], "no call executed twice");
});
