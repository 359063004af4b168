// examples/resources works: its TypeScript controller, run with tsx as its README says,
// against a fresh server and cluster. Its informer syncs the users of its source file;
// changing a user re-syncs it, removing one deletes it.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

import { compatTest } from "../compat/lib/harness.mjs";
import { trackPid } from "../compat/lib/processes.mjs";
import { repoDir } from "../compat/lib/server.mjs";

const example = path.join(repoDir, "examples", "resources");
const tsx = path.join(example, "node_modules", ".bin", "tsx");

compatTest("the resources example keeps users in sync with its source", { timeout: 120_000 }, async (env, t) => {
  assert.ok(fs.existsSync(tsx), "examples/resources needs `npm ci` (scripts/setup --with-node does it)");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "diffplane-resources-example-"));
  const usersFile = path.join(dir, "users.json");
  const writeUsers = (users) => fs.writeFileSync(usersFile, JSON.stringify(users));
  writeUsers([
    { id: "ada", name: "Ada" },
    { id: "alan", name: "Alan" },
  ]);
  const controller = spawn(tsx, ["controller.ts"], {
    cwd: example,
    env: {
      ...process.env,
      DIFFERENTIAL_API_SECRET: env.cluster.apiSecret,
      DIFFERENTIAL_ENDPOINT: env.endpoint,
      USERS_FILE: usersFile,
      SOURCE_PORT: "0",
      INFORM_INTERVAL_SECONDS: "1",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const untrack = trackPid(controller.pid);
  let output = "";
  controller.stdout.on("data", (d) => (output += d));
  controller.stderr.on("data", (d) => (output += d));

  /** Waits until GET /resources/user/:id satisfies `ok`. */
  async function waitFor(id, ok, what) {
    const deadline = Date.now() + 30_000;
    let last;
    while (Date.now() < deadline) {
      assert.equal(controller.exitCode, null, `the controller exited:\n${output}`);
      last = await env.api.request("GET", `/resources/user/${id}`);
      if (last.status === 200 && ok(last.body)) return last.body;
      await sleep(100);
    }
    assert.fail(`user ${id} is ${JSON.stringify(last?.body)}, not ${what}\n${output}`);
  }

  try {
    await waitFor("ada", (r) => r.state === "synced", "synced");
    await waitFor("alan", (r) => r.state === "synced", "synced");
    const kind = await env.api.request("GET", "/resources-kinds/user");
    assert.equal(kind.body.informIntervalSeconds, 1);
    assert.ok(kind.body.lastInformedAt, JSON.stringify(kind.body));

    // A changed user is informed by the next run and synced again.
    writeUsers([
      { id: "ada", name: "Ada Lovelace" },
      { id: "alan", name: "Alan" },
    ]);
    const ada = await waitFor("ada", (r) => r.state === "synced" && r.object.name === "Ada Lovelace", "re-synced");
    assert.equal(ada.attempts, 1);

    // A removed user is worked once more, and the work deletes it.
    writeUsers([{ id: "ada", name: "Ada Lovelace" }]);
    await waitFor("alan", (r) => r.state === "deleted", "deleted");
    await sleep(2500);
    assert.equal((await env.api.request("GET", "/resources/user/alan")).body.state, "deleted");
    assert.match(output, /work: user alan is gone from the source -> deleted/);
    t.diagnostic(output.split("\n").filter((l) => l.startsWith("work:")).join("\n"));
  } finally {
    controller.kill("SIGKILL");
    untrack();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
