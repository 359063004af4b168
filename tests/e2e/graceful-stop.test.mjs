// SIGTERM stops the server promptly and cleanly, also when clients that had long-polls
// parked (POST /jobs-request) died without closing them properly (SIGKILL).
import assert from "node:assert/strict";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

import { compatTest } from "../compat/lib/harness.mjs";
import { NodeChild } from "../compat/lib/processes.mjs";
import { compatDir } from "../compat/lib/server.mjs";

const ROUNDS = 3;
const POLLERS = 4;

for (let round = 1; round <= ROUNDS; round++) {
  compatTest(`graceful stop (round ${round}): SIGTERM after pollers were SIGKILLed`, async (env, t) => {
    const pollers = Array.from(
      { length: POLLERS },
      (_, i) =>
        new NodeChild(path.join(compatDir, "fixtures", "raw-poller.mjs"), {
          args: [`machine-${i}`, `service-${i % 2}`, "20000"],
          env: env.childEnv(),
          name: `poller-${round}-${i}`,
        }),
    );
    await Promise.all(pollers.map((p) => p.waitFor((m) => m.type === "ready", { what: "ready" })));
    await sleep(2000 + round * 1500); // the polls are parked on the server
    await Promise.all(pollers.map((p) => p.kill("SIGKILL")));

    const start = Date.now();
    const exit = await env.server.stop(30_000);
    const ms = Date.now() - start;
    t.diagnostic(`stopped in ${ms} ms: ${JSON.stringify(exit)}`);
    assert.deepStrictEqual(exit, { code: 0, signal: null }, "clean exit");
    assert.ok(ms < 5000, `SIGTERM took ${ms} ms (server log: ${env.server.logTail(3).trim()})`);
  });
}
