// One of several caller processes (caller.mjs --callers P): makes its share of the calls
// and sends the outcomes to its parent. argv: first count.
import { makeCalls } from "./calls.mjs";

const [first, count] = process.argv.slice(2).map(Number);
let done = 0;
const progress = setInterval(() => process.connected && process.send({ type: "progress", done }), 1000);
process.on("disconnect", () => process.exit(1));
process.on("message", async (m) => {
  if (m?.type !== "start") return;
  const outcomes = await makeCalls(first, count, () => (done += 1));
  clearInterval(progress);
  process.send({ type: "outcomes", outcomes }, () => process.exit(0));
});
process.send({ type: "ready" });
