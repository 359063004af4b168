// Resource controllers (docs/http-api.md, "Resources"): the published SDK, unchanged,
// serves resources.user's `work` and so is the controller of the kind "user".
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";

import { compatTest, waitForResourceState } from "./lib/harness.mjs";

/** Polls GET /resources/user/:id until its state is `state`. */
function waitForState(env, id, state, timeoutMs = 30_000) {
  return waitForResourceState(env, "user", id, state, timeoutMs);
}

compatTest("resources: an SDK service is a controller", async (env, t) => {
  const worker = await env.startWorker("resources", { jobPollWaitTime: 5000 });
  const informed = await env.api.request("POST", "/resources", {
    body: {
      resources: [
        { kind: "user", id: "ada", object: { name: "Ada" }, version: 3, namespace: "people" },
        { kind: "user", id: "gone", object: { gone: true } },
        { kind: "user", id: "broken", object: { fail: "upstream down" }, maxAttempts: 2 },
      ],
    },
  });
  assert.equal(informed.status, 200, informed.text);
  assert.deepStrictEqual(
    informed.body.results.map((r) => r.outcome),
    ["scheduled", "scheduled", "scheduled"],
  );

  const ada = await waitForState(env, "ada", "synced");
  assert.equal(ada.attempts, 1);
  await waitForState(env, "gone", "deleted");
  // One failure, a retry after the 1 s backoff, then degraded.
  const broken = await waitForState(env, "broken", "degraded");
  assert.equal(broken.attempts, 2);
  assert.deepStrictEqual(
    broken.errors.map((e) => [e.attempt, e.message]),
    [
      [1, "upstream down"],
      [2, "upstream down"],
    ],
  );

  // The work function got the resource as its single argument.
  const worked = worker.reports("worked").map((m) => m.resource);
  const first = worked.find((r) => r.id === "ada");
  assert.deepStrictEqual(first, {
    kind: "user",
    id: "ada",
    object: { name: "Ada" },
    version: 3,
    namespace: "people",
    attempt: 1,
  });
  assert.equal(worked.filter((r) => r.id === "broken").length, 2);

  // The same object again changes nothing and runs no work.
  const again = await env.api.request("POST", "/resources", {
    body: { kind: "user", id: "ada", object: { name: "Ada" }, version: 3 },
  });
  assert.equal(again.body.results[0].outcome, "unchanged");
  const counts = await env.api.request("GET", "/resources-counts?kind=user");
  assert.deepStrictEqual(
    { synced: counts.body.counts.synced, deleted: counts.body.counts.deleted, degraded: counts.body.counts.degraded },
    { synced: 1, deleted: 1, degraded: 1 },
  );
  await sleep(500);
  assert.equal(worker.reports("worked").filter((m) => m.resource.id === "ada").length, 1);
  t.diagnostic(`${worker.reports("worked").length} works`);
});

compatTest("resources: a version beyond 32 bits reaches work as a number", async (env) => {
  const worker = await env.startWorker("resources", { jobPollWaitTime: 5000 });
  const versions = { big: 2 ** 40, safe: Number.MAX_SAFE_INTEGER };
  const informed = await env.api.request("POST", "/resources", {
    body: {
      resources: Object.entries(versions).map(([id, version]) => ({
        kind: "user",
        id,
        object: { id },
        version,
      })),
    },
  });
  assert.equal(informed.status, 200, informed.text);
  for (const id of Object.keys(versions)) await waitForState(env, id, "synced");
  const worked = worker.reports("worked").map((m) => m.resource);
  for (const [id, version] of Object.entries(versions))
    assert.deepStrictEqual(worked.find((r) => r.id === id).version, version, id);
});
