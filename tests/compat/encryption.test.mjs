// Encryption keys never reach the control plane; payloads are opaque to it.
//
// What SDK 3.18.0 does with `encryptionKeys` (bin/Differential.js, bin/serialize.js): the
// constructor refuses a key that is not 32 bytes long, and nothing else reads the keys:
// `pack`/`unpack` are called without `cryptoSettings`, so arguments and results travel as
// plain msgpack, and a caller with another key, or none, gets the same results. Test 1 pins
// that, byte for byte, so an SDK that starts encrypting fails here and the test is revisited.
//
// The SDK's serializer can encrypt (`pack`/`unpack` with `cryptoSettings`: AES-256-CBC, the
// key's SHA-256 in the envelope). Test 2 sends payloads encrypted that way through the raw
// contract: the server stores and returns them byte for byte, and only the right key
// decrypts them.
import assert from "node:assert/strict";
import crypto from "node:crypto";

import { Api } from "./lib/http.mjs";
import { compatTest } from "./lib/harness.mjs";
import { Differential, DifferentialError, pack, unpack } from "./fixtures/sdk.mjs";

const hex = (key) => key.toString("hex");
const transformed = (secret, n) => ({ reversed: [...secret].reverse().join(""), n: n * 2, bytes: Buffer.from(secret) });

compatTest("encryption: SDK 3.18.0 checks encryptionKeys but sends payloads unencrypted", async (env) => {
  const key = crypto.randomBytes(32);
  const worker = await env.startWorker("encryption", { encryptionKeysHex: [hex(key)], jobPollWaitTime: 5000 });
  const callers = {
    "the worker's key": await env.startCaller({ encryptionKeysHex: [hex(key)] }),
    "another key": await env.startCaller({ encryptionKeysHex: [hex(crypto.randomBytes(32))] }),
    "no key": await env.startCaller(),
  };

  const secrets = ["top secret", "🔐 ünïcödé", "x".repeat(5000)];
  const replies = await Promise.all(
    Object.values(callers).map((caller) => Promise.all(secrets.map((s, n) => caller.call("secure", "transform", [s, n])))),
  );
  Object.keys(callers).forEach((name, c) => {
    replies[c].forEach((reply, n) => {
      assert.ok(reply.ok, `caller with ${name}: ${JSON.stringify(reply.error)}`);
      const { reversed, n: doubled, bytes } = reply.value;
      assert.deepStrictEqual({ reversed, n: doubled, bytes: Buffer.from(bytes) }, transformed(secrets[n], n), `caller with ${name}`);
    });
  });
  assert.equal(worker.reports("executed").length, secrets.length * Object.keys(callers).length);

  // What the server holds for calls made with keys: the SDK's plain msgpack, byte for byte.
  // Three payloads one byte apart, so that their base64 ends in each of its ways ("", "=",
  // "==").
  const keyed = callers["the worker's key"];
  const words = ["stored", "stored!", "stored!!"];
  await Promise.all(
    words.map(async (word) => {
      const bg = await keyed.call("secure", "transform", [word, 1], { background: true });
      assert.ok(bg.ok, JSON.stringify(bg.error));
      const stored = await env.api.waitForJob(bg.value.id);
      assert.equal(stored.status, "success");
      assert.equal(stored.result, pack(transformed(word, 1), true), "the result as the worker packed it, unencrypted");
    }),
  );

  const sealed = await Promise.all(
    words.map(async (word) => {
      const reply = await keyed.call("sealed", "open", [word, { pin: 1234 }], { background: true });
      assert.ok(reply.ok, JSON.stringify(reply.error));
      return { id: reply.value.id, targetFn: "open", targetArgs: pack([word, { pin: 1234 }], true) };
    }),
  );
  const rawWorker = new Api(env.endpoint, env.cluster.apiSecret);
  const jobs = await rawWorker.requestJobs({ service: "sealed", limit: 10, ttl: 5000, functions: [{ name: "open" }] });
  const byId = (a, b) => a.id.localeCompare(b.id);
  assert.deepStrictEqual(jobs.sort(byId), sealed.sort(byId), "the arguments as the caller packed them, unencrypted");

  // A key of the wrong length is refused when the SDK is constructed.
  assert.throws(() => new Differential(env.cluster.apiSecret, { endpoint: env.endpoint, encryptionKeys: [crypto.randomBytes(16)] }), {
    name: "DifferentialError",
    message: "Encryption keys must be 32 bytes long. Received key of length 16 at index 0",
  });
});

compatTest("encryption: payloads encrypted with the SDK's serializer pass through byte for byte", async (env) => {
  const key = crypto.randomBytes(32);
  const cryptoSettings = { keys: [key] };
  const callConfig = { retryCountOnStall: 0, predictiveRetriesOnRejection: false, timeoutSeconds: 30 };
  // Payloads of several sizes, so that their base64 ends in each of its ways ("", "=", "==").
  const cases = [0, 16, 32, 48].map((n) => {
    const args = ["the launch code", { pin: 1234, pad: "p".repeat(n) }];
    const value = { opened: "the launch code", pin: 1234, pad: "r".repeat(n) };
    return { args, value, targetArgs: pack(args, true, { cryptoSettings }), result: pack(value, true, { cryptoSettings }) };
  });
  const endings = new Set(cases.flatMap((c) => [c.targetArgs, c.result]).map((p) => p.match(/=*$/)[0]));
  assert.equal(endings.size, 3, "the payloads cover every base64 ending");
  for (const c of cases) {
    assert.ok(!Buffer.from(c.targetArgs, "base64").toString("latin1").includes("launch code"), "arguments are encrypted");
    c.id = (await env.api.createJob({ service: "vault", targetFn: "open", targetArgs: c.targetArgs, callConfig })).id;
  }

  const rawWorker = new Api(env.endpoint, env.cluster.apiSecret);
  const jobs = await rawWorker.requestJobs({ service: "vault", limit: 10, ttl: 5000, functions: [{ name: "open" }] });
  const byId = (a, b) => a.id.localeCompare(b.id);
  assert.deepStrictEqual(
    jobs.sort(byId),
    cases.map(({ id, targetArgs }) => ({ id, targetFn: "open", targetArgs })).sort(byId),
    "the jobs as created, args byte for byte",
  );
  for (const c of cases) {
    assert.deepStrictEqual(unpack(jobs.find((j) => j.id === c.id).targetArgs, { cryptoSettings }), c.args);
    await rawWorker.postResult(c.id, { result: c.result, resultType: "resolution", functionExecutionTime: 3 });
  }

  for (const c of cases) {
    const job = await env.api.waitForJob(c.id);
    assert.equal(job.status, "success");
    assert.equal(job.resultType, "resolution");
    assert.equal(job.result, c.result, "result byte for byte");
    // The right key decrypts it, also among others; without a key, or with another one,
    // the SDK refuses it.
    assert.deepStrictEqual(unpack(job.result, { cryptoSettings }), c.value);
    assert.deepStrictEqual(unpack(job.result, { cryptoSettings: { keys: [crypto.randomBytes(32), key] } }), c.value);
    assert.throws(() => unpack(job.result), { message: DifferentialError.UNKNOWN_ENCRYPTION_KEY });
    assert.throws(() => unpack(job.result, { cryptoSettings: { keys: [crypto.randomBytes(32)] } }), {
      message: DifferentialError.UNKNOWN_ENCRYPTION_KEY,
    });
  }

  // The same through the batch status route.
  const batch = await env.api.batchStatus(cases.map((c) => c.id), 5000);
  assert.deepStrictEqual(
    batch.sort(byId),
    cases.map(({ id, result }) => ({ id, status: "success", result, resultType: "resolution" })).sort(byId),
  );
});
