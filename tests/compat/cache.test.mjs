// callConfig.cache {key, ttlSeconds}: within the TTL a call with the same key answers with
// the cached result without executing; after the TTL it executes again.
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";

import { compatTest } from "./lib/harness.mjs";

compatTest("cache: a second call within the TTL is served from the cache", async (env, t) => {
  const worker = await env.startWorker("cache", { jobPollWaitTime: 5000 });
  const caller = await env.startCaller();
  const executions = () => worker.reports("executed").length;
  const cached = (key) => ({ $d: { cache: { key, ttlSeconds: 2 } } });

  const first = await caller.call("cached", "compute", ["v", cached("k")]);
  const firstAt = Date.now();
  assert.ok(first.ok, JSON.stringify(first.error));
  assert.deepStrictEqual(first.value, { input: "v", execution: 1 });
  assert.equal(executions(), 1);

  const second = await caller.call("cached", "compute", ["v", cached("k")]);
  const secondMs = Date.now() - firstAt;
  t.diagnostic(`second call answered ${secondMs} ms after the first (${second.ms} ms round trip)`);
  assert.ok(secondMs < 2000, `test too slow to check the cache (${secondMs} ms)`);
  assert.ok(second.ok, JSON.stringify(second.error));
  assert.deepStrictEqual(second.value, { input: "v", execution: 1 }, "served from the cache");
  assert.equal(executions(), 1, "no second execution within the TTL");

  // A different key is a different cache entry; a call without cache config always runs.
  const otherKey = await caller.call("cached", "compute", ["v", cached("other")]);
  assert.deepStrictEqual(otherKey.value, { input: "v", execution: 2 });
  const uncached = await caller.call("cached", "compute", ["v"]);
  assert.deepStrictEqual(uncached.value, { input: "v", execution: 3 });
  assert.equal(executions(), 3);

  // After the TTL (2 s after the first result) the key executes again.
  await sleep(Math.max(0, firstAt + 3000 - Date.now()));
  const third = await caller.call("cached", "compute", ["v", cached("k")]);
  assert.ok(third.ok, JSON.stringify(third.error));
  assert.deepStrictEqual(third.value, { input: "v", execution: 4 }, "executed again after the TTL");
  assert.equal(executions(), 4);

  // ... and that new result is what the key now serves.
  const fourth = await caller.call("cached", "compute", ["v", cached("k")]);
  assert.deepStrictEqual(fourth.value, { input: "v", execution: 4 });
  assert.equal(executions(), 4);
});
