// Encryption keys never reach the control plane; payloads are opaque to it.
// 1. Worker and caller built with `encryptionKeys`: calls work end to end. (In SDK 3.18.0
//    the keys are validated but not passed to pack/unpack, so payloads go out plain; the
//    test reports which it saw and passes either way.)
// 2. Payloads encrypted with the SDK's own serializer (pack/unpack with cryptoSettings)
//    pass through the server byte for byte: job arguments to the worker, the result back.
import assert from "node:assert/strict";
import crypto from "node:crypto";

import { Api } from "./lib/http.mjs";
import { compatTest } from "./lib/harness.mjs";
import { DifferentialError, pack, unpack } from "./fixtures/sdk.mjs";

compatTest("encryption: SDK with encryptionKeys works; encrypted payloads pass through unchanged", async (env, t) => {
  const key = crypto.randomBytes(32);
  const sdkOptions = { encryptionKeysHex: [key.toString("hex")] };
  const worker = await env.startWorker("encryption", { ...sdkOptions, jobPollWaitTime: 5000 });
  const caller = await env.startCaller(sdkOptions);

  const secrets = ["top secret", "🔐 ünïcödé", "x".repeat(5000)];
  const replies = await Promise.all(secrets.map((s, n) => caller.call("secure", "transform", [s, n])));
  replies.forEach((reply, n) => {
    assert.ok(reply.ok, JSON.stringify(reply.error));
    const { reversed, n: doubled, bytes } = reply.value;
    assert.equal(reversed, [...secrets[n]].reverse().join(""));
    assert.equal(doubled, n * 2);
    assert.deepStrictEqual(Buffer.from(bytes), Buffer.from(secrets[n]));
  });
  assert.equal(worker.reports("executed").length, secrets.length);

  // What did the server store for an SDK call made with keys?
  const bg = await caller.call("secure", "transform", ["stored", 1], { background: true });
  const stored = await env.api.waitForJob(bg.value.id);
  let wire;
  try {
    unpack(stored.result);
    wire = "plain msgpack (SDK 3.18.0 does not wire encryptionKeys into pack/unpack)";
  } catch (e) {
    wire = e.message === DifferentialError.UNKNOWN_ENCRYPTION_KEY ? "encrypted" : `unreadable: ${e.message}`;
  }
  t.diagnostic(`SDK payloads with encryptionKeys are ${wire}`);

  // Encrypted payloads through the raw contract, with the SDK's serializer.
  const cryptoSettings = { keys: [key] };
  const args = ["the launch code", { pin: 1234 }];
  const targetArgs = pack(args, true, { cryptoSettings });
  assert.ok(!Buffer.from(targetArgs, "base64").toString("latin1").includes("launch code"), "arguments are encrypted");
  const { id } = await env.api.createJob({
    service: "vault",
    targetFn: "open",
    targetArgs,
    callConfig: { retryCountOnStall: 0, predictiveRetriesOnRejection: false, timeoutSeconds: 30 },
  });

  const rawWorker = new Api(env.endpoint, env.cluster.apiSecret);
  const jobs = await rawWorker.requestJobs({ service: "vault", limit: 10, ttl: 5000, functions: [{ name: "open" }] });
  assert.equal(jobs.length, 1, `one vault job: ${JSON.stringify(jobs)}`);
  assert.deepStrictEqual(jobs[0], { id, targetFn: "open", targetArgs }, "the job as created, args byte for byte");
  assert.deepStrictEqual(unpack(jobs[0].targetArgs, { cryptoSettings }), args);

  const result = pack({ opened: args[0], pin: args[1].pin }, true, { cryptoSettings });
  await rawWorker.postResult(id, { result, resultType: "resolution", functionExecutionTime: 3 });

  const job = await env.api.waitForJob(id);
  assert.equal(job.status, "success");
  assert.equal(job.resultType, "resolution");
  assert.equal(job.result, result, "result byte for byte");
  assert.deepStrictEqual(unpack(job.result, { cryptoSettings }), { opened: "the launch code", pin: 1234 });
  assert.throws(() => unpack(job.result), { message: DifferentialError.UNKNOWN_ENCRYPTION_KEY });
  assert.throws(() => unpack(job.result, { cryptoSettings: { keys: [crypto.randomBytes(32)] } }), {
    message: DifferentialError.UNKNOWN_ENCRYPTION_KEY,
  });

  // The same through the batch status route.
  const [batch] = await env.api.batchStatus([id], 5000);
  assert.deepStrictEqual(batch, { id, status: "success", result, resultType: "resolution" });
});
