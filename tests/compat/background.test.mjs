// `d.client(service, { background: true }).fn(args)` answers `{ id }` at once; the job
// runs on a worker later (here: one started only after the calls were made), and its
// result can be read with GET /jobs/:id.
import assert from "node:assert/strict";

import { compatTest, since } from "./lib/harness.mjs";
import { unpack } from "./fixtures/sdk.mjs";

compatTest("background: calls return {id}; the jobs run and succeed", async (env, t) => {
  const caller = await env.startCaller();

  const tokens = ["tok-1", "tok-2", "tok-3", "tok-4", "tok-5"];
  const start = Date.now();
  const replies = await Promise.all(
    tokens.map((token, i) => caller.call("bg", "record", [token, { i, list: [i, i + 1] }], { background: true })),
  );
  t.diagnostic(`${tokens.length} background calls answered in ${since(start)} with no worker running`);

  const ids = replies.map((reply, i) => {
    assert.ok(reply.ok, `background call ${i} failed: ${JSON.stringify(reply.error)}`);
    assert.equal(reply.valueType, "object");
    assert.deepStrictEqual(Object.keys(reply.value), ["id"]);
    assert.equal(typeof reply.value.id, "string");
    assert.ok(reply.value.id.length > 0);
    return reply.value.id;
  });
  assert.equal(new Set(ids).size, ids.length, "job ids are distinct");

  // Nothing can run yet: a 5 s long-poll on the first job ends with it still pending.
  const waiting = await env.api.jobStatus(ids[0], 5000);
  assert.equal(waiting.status, "pending", `job without a worker: ${JSON.stringify(waiting)}`);

  const worker = await env.startWorker("background", { jobPollWaitTime: 5000 });
  const runStart = Date.now();
  for (const token of tokens) {
    await worker.waitFor((m) => m.type === "executed" && m.token === token, { what: `execution of ${token}` });
  }
  t.diagnostic(`all executed ${since(runStart)} after the worker started`);

  for (const [i, id] of ids.entries()) {
    const job = await env.api.waitForJob(id);
    assert.equal(job.status, "success", `job ${id}: ${JSON.stringify(job)}`);
    assert.equal(job.resultType, "resolution");
    assert.deepStrictEqual(unpack(job.result), { token: tokens[i], done: true, payload: { i, list: [i, i + 1] } });
  }

  // Each job ran once.
  assert.equal(worker.reports("executed").length, tokens.length);

  // The status route's contract around it.
  const unknown = await env.api.get(`/jobs/does-not-exist-${Date.now()}?ttl=5000`);
  assert.equal(unknown.status, 404, `GET unknown job: ${unknown.status} ${unknown.text}`);
  const anonymous = await fetch(`${env.endpoint}/jobs/${ids[0]}?ttl=5000`);
  assert.equal(anonymous.status, 401, "GET /jobs/:id without a secret");
});
