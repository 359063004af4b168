// The native C++ client (client/, examples/native) against the TypeScript SDK on one
// cluster through a real server: a TS caller calls a C++ worker, C++ callers (plain and
// actor API) call a TS worker, and a SIGKILLed C++ worker's job is retried on a second
// C++ worker within a second, because the server sees its connection end; and the C++
// resource controller (examples/native/user_controller) and the SDK's controller of the
// same kind take over from each other.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { compatTest, since, waitForResourceState } from "./lib/harness.mjs";
import { logDirectory, trackPid } from "./lib/processes.mjs";

const binaries = process.env.DIFFPLANE_NATIVE_BIN_DIR;
const options = { serverArgs: ["--native-listen", "127.0.0.1:0"] };

/** A native program with the env's endpoint and secret; collects its stdout lines. */
function native(env, program, args = [], extraEnv = {}) {
  const file = path.join(binaries, program);
  assert.ok(fs.existsSync(file), `${file} is built`);
  const child = spawn(file, args, {
    env: {
      ...process.env,
      DIFFPLANE_NATIVE: `127.0.0.1:${env.server.nativePort}`,
      DIFFERENTIAL_API_SECRET: env.cluster.apiSecret,
      ...extraEnv,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const untrack = trackPid(child.pid);
  const log = fs.createWriteStream(path.join(logDirectory(), `${program}-${child.pid}.log`));
  const lines = [];
  const waiters = [];
  let buffered = "";
  child.stdout.on("data", (chunk) => {
    buffered += chunk;
    let at;
    while ((at = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, at);
      buffered = buffered.slice(at + 1);
      lines.push({ line, at: Date.now() });
      for (const w of [...waiters]) w();
    }
  });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const exited = new Promise((resolve) =>
    child.once("exit", (code, signal) => {
      untrack();
      resolve({ code, signal });
      for (const w of [...waiters]) w();
    }),
  );
  return {
    child,
    lines,
    exited,
    /** Resolves with the first stdout line starting with `prefix`. */
    waitFor(prefix, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "${prefix}" from ${program}: ${JSON.stringify(lines)}`)), timeoutMs);
        const check = () => {
          const found = lines.find((l) => l.line.startsWith(prefix));
          if (found) {
            clearTimeout(timer);
            waiters.splice(waiters.indexOf(check), 1);
            resolve(found);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            clearTimeout(timer);
            waiters.splice(waiters.indexOf(check), 1);
            reject(new Error(`${program} exited before "${prefix}": ${JSON.stringify(lines)}`));
          }
        };
        waiters.push(check);
        check();
      });
    },
    kill(signal = "SIGKILL") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

compatTest("native: a TypeScript caller calls the C++ hello_worker", options, async (env, t) => {
  const worker = native(env, "hello_worker");
  try {
    await worker.waitFor("hello service is running");
    const caller = await env.startCaller();
    const greeting = await caller.call("hello", "greet", ["TypeScript"]);
    assert.ok(greeting.ok, JSON.stringify(greeting.error));
    assert.equal(greeting.value, "Hello, TypeScript!");
    const sum = await caller.call("hello", "add", [2, 3]);
    assert.ok(sum.ok, JSON.stringify(sum.error));
    assert.equal(sum.value, 5);
    const wrong = await caller.call("hello", "add", ["two", 3]);
    assert.ok(!wrong.ok, "a payload that does not decode is a rejection");
    t.diagnostic(`the rejection: ${JSON.stringify(wrong.error)}`);
  } finally {
    await worker.kill();
  }
});

compatTest("native: C++ callers call the TypeScript hello service", options, async (env) => {
  await env.startWorker("hello");
  const caller = native(env, "hello_caller");
  assert.deepStrictEqual(await caller.exited, { code: 0, signal: null });
  assert.deepStrictEqual(caller.lines.map((l) => l.line), ["Hello, world!", "2 + 3 = 5"]);
  const actor = native(env, "actor_caller");
  assert.deepStrictEqual(await actor.exited, { code: 0, signal: null });
  assert.deepStrictEqual(actor.lines.map((l) => l.line), ["Hello, actor!"]);
});

compatTest("native: a SIGKILLed C++ worker's job runs on a second worker within a second", options, async (env, t) => {
  const first = native(env, "native_worker", ["hang"]);
  const second = [];
  try {
    await first.waitFor("ready");
    const caller = await env.startCaller();
    const reply = caller.call("native-crash", "work", ["job-1", { $d: { retryCountOnStall: 1, timeoutSeconds: 300 } }]);
    await first.waitFor("executing");
    second.push(native(env, "native_worker", ["answer"]));
    await second[0].waitFor("ready");
    const killedAt = Date.now();
    await first.kill("SIGKILL");
    const executing = await second[0].waitFor("executing");
    const retriedAfter = Number(executing.line.split(" ")[1]) - killedAt;
    t.diagnostic(`the second worker ran the job ${retriedAfter} ms after the kill`);
    assert.ok(retriedAfter < 1000, `retried after ${retriedAfter} ms`);
    const result = await reply;
    assert.ok(result.ok, JSON.stringify(result.error));
    assert.equal(result.value, "job-1 by answer");
    t.diagnostic(`the caller got the result ${since(killedAt)} after the kill`);
  } finally {
    await first.kill();
    for (const s of second) await s.kill();
  }
});

compatTest("native: the C++ user_controller and an SDK controller replace each other", options, async (env) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "diffplane-users-"));
  const usersFile = path.join(dir, "users.json");
  fs.writeFileSync(usersFile, JSON.stringify([
    { id: "ada", name: "Ada Lovelace", email: "ada@example.com" },
    { id: "grace", name: "Grace Hopper", email: "grace@example.com" },
  ]));
  const start = () => native(env, "user_controller", [], { USERS_FILE: usersFile });
  const informer = (seconds) =>
    env.api.request("PUT", "/resources-kinds/user", { body: { informIntervalSeconds: seconds } });
  let cpp = start();
  try {
    // The C++ informer informs the file's users, and the C++ work syncs them.
    await cpp.waitFor("controller of");
    assert.equal((await informer(1)).status, 200);
    const ada = await waitForResourceState(env, "user", "ada", "synced");
    assert.deepStrictEqual(ada.object,
      { id: "ada", name: "Ada Lovelace", email: "ada@example.com", removedFromSource: false });
    await waitForResourceState(env, "user", "grace", "synced");
    await cpp.waitFor("work: user grace");
    assert.equal((await informer(null)).status, 200);
    await cpp.kill("SIGTERM");

    // The SDK's controller works what the C++ informer informed, changed over HTTP.
    const sdk = await env.startWorker("resources", { jobPollWaitTime: 5000 });
    await env.api.request("POST", "/resources", {
      body: { resources: [{ kind: "user", id: "ada", object: { ...ada.object, gone: true } }] },
    });
    await waitForResourceState(env, "user", "ada", "deleted");
    assert.ok(sdk.reports("worked").some((m) => m.resource.id === "ada"));
    await sdk.kill("SIGKILL");

    // And the C++ work takes resources the SDK informed: one the file lacks is deleted,
    // one whose object is not a user fails with the decode error as its message.
    cpp = start();
    await cpp.waitFor("controller of");
    await env.api.request("POST", "/resources", {
      body: {
        resources: [
          { kind: "user", id: "alan", object: { name: "Alan Turing" } },
          { kind: "user", id: "grace", object: { name: 5 } },
        ],
      },
    });
    await waitForResourceState(env, "user", "alan", "deleted");
    const grace = await waitForResourceState(env, "user", "grace", "failed");
    assert.match(grace.errors[0].message, /the object of user\/grace does not decode as user/);
  } finally {
    await cpp.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
