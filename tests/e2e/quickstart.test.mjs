// The README's quickstart works: examples/quickstart's TypeScript service and caller,
// run with tsx exactly as the README says, against a fresh server and cluster.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";

import { compatTest } from "../compat/lib/harness.mjs";
import { trackPid } from "../compat/lib/processes.mjs";
import { repoDir } from "../compat/lib/server.mjs";

const example = path.join(repoDir, "examples", "quickstart");
const tsx = path.join(example, "node_modules", ".bin", "tsx");

compatTest("the quickstart's TypeScript service answers its TypeScript caller", { timeout: 90_000 }, async (env, t) => {
  assert.ok(fs.existsSync(tsx), "examples/quickstart needs `npm ci` (scripts/setup --with-node does it)");
  const childEnv = {
    ...process.env,
    DIFFERENTIAL_API_SECRET: env.cluster.apiSecret,
    DIFFERENTIAL_ENDPOINT: env.endpoint,
  };
  const service = spawn(tsx, ["service.ts"], { cwd: example, env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
  const untrack = trackPid(service.pid);
  let serviceOutput = "";
  service.stdout.on("data", (d) => (serviceOutput += d));
  service.stderr.on("data", (d) => (serviceOutput += d));
  try {
    const deadline = Date.now() + 30_000;
    while (!serviceOutput.includes("hello service is running")) {
      assert.ok(Date.now() < deadline, `the service did not start:\n${serviceOutput}`);
      assert.equal(service.exitCode, null, `the service exited:\n${serviceOutput}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const { stdout } = await promisify(execFile)(tsx, ["caller.ts"], { cwd: example, env: childEnv, timeout: 60_000 });
    t.diagnostic(stdout.trim());
    assert.match(stdout, /Hello, world!/);
    assert.match(stdout, /2 \+ 3 = 5/);
  } finally {
    service.kill("SIGKILL");
    untrack();
  }
});
