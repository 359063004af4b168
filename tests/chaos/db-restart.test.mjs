// Database faults under steady load, the quick ones (part of every test run): the
// server's backends killed with pg_terminate_backend, then Postgres restarted with a
// fast shutdown. The slow ones (immediate shutdown, a 20 s freeze) are in
// db-freeze.test.mjs, label `slow`, run by bench/chaos.
import { test } from "node:test";

import { faults, runChaos } from "./lib/scenario.mjs";

test("chaos: backends killed and a fast restart lose no acknowledged call", { timeout: 180_000 }, async (t) => {
  await runChaos(t, [faults.terminateBackends, faults.restartFast]);
});
