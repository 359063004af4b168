// The caller process of bench/sdk-parallel: forks the SDK worker processes, then makes all
// calls at once with one SDK client (or, with --callers P, through P caller processes of
// its own) and prints a table. Exit 0 when every call returned its own argument, 1
// otherwise.
//   node caller.mjs --calls N --workers W --timeout SECONDS [--callers P]
import { fork } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import { makeCalls } from "./calls.mjs";
import { sdkVersion } from "./sdk.mjs";

const { values: flags } = parseArgs({
  options: {
    calls: { type: "string", default: "10000" },
    workers: { type: "string", default: "2" },
    timeout: { type: "string", default: "900" },
    // Each call in flight is a socket of its own (fetch's default agent sets no cap), and
    // one process may hold at most `ulimit -Hn` of them: P processes share the calls.
    callers: { type: "string", default: "1" },
  },
});
const callerCount = Number(flags.callers);
const calls = Number(flags.calls);
const workerCount = Number(flags.workers);
const here = path.dirname(fileURLToPath(import.meta.url));

const workers = Array.from({ length: workerCount }, (_, n) =>
  fork(path.join(here, "worker.mjs"), [`worker-${n + 1}`], { stdio: ["ignore", "inherit", "inherit", "ipc"] }),
);
const stopWorkers = () => workers.forEach((w) => w.connected && w.send({ type: "exit" }));
process.on("exit", () => workers.forEach((w) => w.kill("SIGKILL")));
const timer = setTimeout(() => {
  console.error(`sdk-parallel: not done after ${flags.timeout} s`);
  process.exit(1);
}, Number(flags.timeout) * 1000);

const nextMessage = (w, type) =>
  new Promise((resolve, reject) => {
    const onMessage = (m) => m?.type === type && (w.off("message", onMessage), resolve(m));
    w.on("message", onMessage);
    w.once("exit", (code) => reject(new Error(`worker exited with ${code}`)));
  });
await Promise.all(workers.map((w) => nextMessage(w, "ready")));

const start = Date.now();
let done = 0;
const progress = setInterval(() => console.error(`  ${done}/${calls} after ${Math.round((Date.now() - start) / 1000)} s`), 10_000);
let outcomes;
if (callerCount <= 1) {
  outcomes = await makeCalls(0, calls, () => (done += 1));
} else {
  const share = Math.ceil(calls / callerCount);
  const parts = Array.from({ length: callerCount }, (_, p) => {
    const first = p * share;
    const count = Math.max(0, Math.min(share, calls - first));
    const child = fork(path.join(here, "caller-part.mjs"), [first, count].map(String), {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    child.doneSoFar = 0;
    child.on("message", (m) => {
      if (m?.type !== "progress") return;
      done += m.done - child.doneSoFar;
      child.doneSoFar = m.done;
    });
    workers.push(child); // killed with the workers on exit
    return child;
  });
  await Promise.all(parts.map((c) => nextMessage(c, "ready")));
  const results = parts.map((c) => nextMessage(c, "outcomes"));
  parts.forEach((c) => c.send({ type: "start" }));
  outcomes = (await Promise.all(results)).flatMap((m) => m.outcomes);
  done = calls;
}
const wall = (Date.now() - start) / 1000;
clearInterval(progress);

const executed = await Promise.all(
  workers.slice(0, workerCount).map((w) => {
    const reply = nextMessage(w, "executed");
    w.send({ type: "report" });
    return reply;
  }),
);
clearTimeout(timer);
stopWorkers();

const errors = outcomes.filter((o) => !o.ok);
const ms = outcomes.map((o) => o.ms).sort((a, b) => a - b);
const at = (q) => ms[Math.min(ms.length - 1, Math.floor(q * (ms.length - 1)))];
// Each SDK worker asks for ceil((100 - running) / 2) jobs and then waits 2 s, so W workers
// take at most 25 W calls/s after their first polls (50 each): the SDK's own floor.
const floor = Math.max(0, calls - 50 * workerCount) / (25 * workerCount);
const callersText = callerCount <= 1 ? "one caller process" : `${callerCount} caller processes`;
console.log(`sdk-parallel: @differentialhq/core ${sdkVersion}, ${calls} parallel calls from ${callersText}, ${workerCount} worker processes`);
console.log("");
console.log("| figure | value |");
console.log("|---|---|");
console.log(`| wall time | ${wall.toFixed(1)} s |`);
console.log(`| calls/s | ${(calls / wall).toFixed(1)} |`);
console.log(`| errors | ${errors.length} |`);
console.log(`| call time p50 / p90 / max | ${at(0.5)} / ${at(0.9)} / ${at(1)} ms |`);
console.log(`| executed per worker | ${executed.map((m) => `${m.label} ${m.executed}`).join(", ")} |`);
console.log(`| SDK floor (25 calls/s per worker) | ${floor.toFixed(1)} s |`);
if (errors.length > 0) console.log(`first error: ${errors[0].error}`);
process.exit(errors.length === 0 && executed.reduce((n, m) => n + m.executed, 0) >= calls ? 0 : 1);
