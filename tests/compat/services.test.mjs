// A worker process serves two services; a caller process calls every function with the
// payload types the SDK's msgpack encoding carries, and gets exactly what was returned.
import assert from "node:assert/strict";

import { compatTest, since } from "./lib/harness.mjs";

const bytes = (v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

compatTest("services: calls with strings, numbers, objects, arrays, null, Buffer", async (env, t) => {
  const worker = await env.startWorker("services", { jobPollWaitTime: 5000 });
  const caller = await env.startCaller();

  const big = "x".repeat(100_000) + "ü";
  const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const date = new Date("2024-02-29T12:34:56.789Z");
  const nested = { a: [1, { b: [true, false, null] }], s: "ß", n: -1.25, empty: {}, list: [] };

  // [service, fn, args, expected value, expected type]
  const cases = [
    ["calc", "add", [2, 3], 5, "number"],
    ["calc", "add", [0.1, 0.2], 0.1 + 0.2, "number"],
    ["calc", "negate", [-7], 7, "number"],
    ["calc", "pow2", [40], 2 ** 40, "number"],
    ["calc", "pow2", [53], 2 ** 53, "number"],
    ["calc", "divide", [1, 0], Infinity, "number"],
    ["calc", "divide", [0, 0], NaN, "number"],
    ["calc", "stats", [[3, -1, 4, 1, 5]], { count: 5, sum: 12, min: -1, max: 5 }, "object"],
    ["text", "echo", ["hello"], "hello", "string"],
    ["text", "echo", [""], "", "string"],
    ["text", "echo", ["héllo wörld ✓ 😀 中文"], "héllo wörld ✓ 😀 中文", "string"],
    ["text", "echo", [null], null, "null"],
    ["text", "echo", [true], true, "boolean"],
    ["text", "echo", [false], false, "boolean"],
    ["text", "echo", [0], 0, "number"],
    ["text", "echo", [-123456789012], -123456789012, "number"],
    ["text", "echo", [[1, "two", null, [3, [4]], { five: 5 }]], [1, "two", null, [3, [4]], { five: 5 }], "array"],
    ["text", "echo", [nested], nested, "object"],
    ["text", "echo", [date], date, "Date"],
    ["text", "echo", [big], big, "string"],
    ["text", "upper", ["abc"], "ABC", "string"],
    ["text", "concat", ["a", "b", "c", "d"], "abcd", "string"],
    ["text", "noArgs", [], { argCount: 0 }, "object"],
    ["text", "typesOf", ["s", 1, null, [1], { a: 1 }, true, binary, date], ["string", "number", "null", "array", "object", "boolean", "Buffer", "Date"], "array"],
    ["text", "sizeOf", [big], big.length, "number"],
    ["text", "nothing", [], undefined, "undefined"],
    ["text", "nil", [], null, "null"],
    ["text", "user", [42], { id: 42, name: "user-42", tags: ["a", "b"], address: { city: "Zürich", zip: null }, active: true }, "object"],
    ["text", "sync", ["x"], "sync:x", "string"],
  ];

  const start = Date.now();
  const replies = await Promise.all(cases.map(([service, fn, args]) => caller.call(service, fn, args)));
  t.diagnostic(`${cases.length} calls in ${since(start)}`);

  cases.forEach(([service, fn, args, expected, type], i) => {
    const reply = replies[i];
    const label = `${service}.${fn}(${JSON.stringify(args).slice(0, 60)})`;
    assert.ok(reply.ok, `${label} failed: ${JSON.stringify(reply.error)}`);
    assert.deepStrictEqual(reply.value, expected, label);
    assert.equal(reply.valueType, type, `${label}: type`);
  });

  // Buffers: as argument and as return value.
  const echoed = await caller.call("text", "echo", [binary]);
  assert.ok(echoed.ok, JSON.stringify(echoed.error));
  assert.equal(echoed.valueType, "Buffer");
  assert.deepStrictEqual(bytes(echoed.value), binary);
  const reversed = await caller.call("text", "reverseBytes", [Buffer.from([1, 2, 3, 250])]);
  assert.ok(reversed.ok, JSON.stringify(reversed.error));
  assert.equal(reversed.valueType, "Buffer");
  assert.deepStrictEqual(bytes(reversed.value), Buffer.from([250, 3, 2, 1]));

  // A function the service does not have: the SDK worker answers with a rejection.
  const missing = await caller.call("text", "doesNotExist", [1], { timeoutMs: 30_000 });
  assert.equal(missing.ok, false, "calling an unregistered function must fail");
  assert.equal(missing.error.message, "Function was not registered. name='doesNotExist'");

  // Sequential calls after the burst still work (the worker keeps polling).
  for (let i = 0; i < 3; i++) {
    const r = await caller.call("calc", "add", [i, 100]);
    assert.ok(r.ok, JSON.stringify(r.error));
    assert.equal(r.value, i + 100);
  }
  assert.ok(worker.alive, "worker still running");
});
