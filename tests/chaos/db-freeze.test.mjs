// Database faults under steady load, the slow ones (label `slow`, run by bench/chaos):
// Postgres restarted with an immediate shutdown (crash recovery), then frozen with
// SIGSTOP for 20 s. A frozen Postgres on loopback keeps its sockets alive, so only the
// writer's watchdog can notice: the writes waiting on it must be answered 503 while it
// is frozen, not hang until it thaws, and the writer's queue must stay bounded.
import assert from "node:assert/strict";
import { test } from "node:test";

import { faults, runChaos } from "./lib/scenario.mjs";

const STATEMENT_TIMEOUT_MS = 2000;
const QUEUE_LIMIT = 24;

test("chaos: an immediate restart and a 20 s freeze lose no acknowledged call", { timeout: 180_000 }, async (t) => {
  await runChaos(t, [faults.restartImmediate, faults.freeze20s], {
    extraArgs: [
      "--writer-statement-timeout-ms",
      String(STATEMENT_TIMEOUT_MS),
      "--database-connect-timeout",
      "2",
      "--writer-queue-limit",
      String(QUEUE_LIMIT),
    ],
    // Longer than the watchdog's limit, so the server's answer is seen, not our give-up.
    callTimeoutMs: 15_000,
    check(rows) {
      const freeze = rows.find((r) => r.name === faults.freeze20s.name);
      assert.ok(freeze.during.unavailable > 0, `writes waiting on the frozen database were answered 503 while it was frozen: ${JSON.stringify(freeze.during)}`);
      // The statement timeout, the watchdog's grace and tick, and two connection
      // attempts (the in-doubt replay's, the next batch's): well before the thaw.
      assert.ok(freeze.during.maxWait < 15_000, `no create waited ${freeze.during.maxWait} ms for an answer during the freeze`);
    },
  });
});
