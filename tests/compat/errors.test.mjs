// A function's thrown error reaches the caller as a rejection with the same name and
// message (and the SDK's serialize-error carries extra own properties and the cause).
import assert from "node:assert/strict";

import { compatTest } from "./lib/harness.mjs";

compatTest("errors: thrown errors arrive at the caller with name and message", async (env) => {
  await env.startWorker("errors", { jobPollWaitTime: 5000 });
  const caller = await env.startCaller();

  const [custom, typeError, stringThrown, withCause, later, syncThrow, fine] = await Promise.all([
    caller.call("errs", "withdraw", [100]),
    caller.call("errs", "badType", []),
    caller.call("errs", "throwsString", []),
    caller.call("errs", "withCause", []),
    caller.call("errs", "rejectsLater", [300]),
    caller.call("errs", "syncThrow", []),
    caller.call("errs", "fine", ["ok"]),
  ]);

  // A custom error class: name, message and its own properties.
  assert.equal(custom.ok, false, "withdraw must reject");
  assert.equal(custom.error.name, "InsufficientFundsError");
  assert.equal(custom.error.message, "cannot withdraw 100: balance is 5");
  assert.equal(custom.error.props.balance, 5);
  assert.equal(custom.error.props.code, "E_FUNDS");
  assert.equal(custom.error.isDifferentialError, false);

  // A built-in error class comes back as that class.
  assert.equal(typeError.ok, false);
  assert.equal(typeError.error.name, "TypeError");
  assert.equal(typeError.error.message, "expected a number, got a string");
  assert.equal(typeError.error.constructorName, "TypeError");

  // A thrown string becomes an Error with that message.
  assert.equal(stringThrown.ok, false);
  assert.equal(stringThrown.error.name, "Error");
  assert.equal(stringThrown.error.message, "a plain string was thrown");

  // The cause travels too.
  assert.equal(withCause.ok, false);
  assert.equal(withCause.error.message, "outer failure");
  assert.deepStrictEqual(withCause.error.cause, { name: "RangeError", message: "inner cause" });

  assert.equal(later.ok, false);
  assert.equal(later.error.message, "failed after 300 ms");

  assert.equal(syncThrow.ok, false);
  assert.equal(syncThrow.error.message, "thrown synchronously");

  // Failures do not disturb other calls.
  assert.ok(fine.ok, JSON.stringify(fine.error));
  assert.deepStrictEqual(fine.value, { fine: "ok" });

  // The rejection is stored as a successful job with resultType "rejection".
  const bg = await caller.call("errs", "withdraw", [7], { background: true });
  assert.ok(bg.ok, JSON.stringify(bg.error));
  const job = await env.api.waitForJob(bg.value.id);
  assert.equal(job.status, "success");
  assert.equal(job.resultType, "rejection");
});
