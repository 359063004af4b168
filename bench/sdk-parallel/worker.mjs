// One SDK worker process: serves service "bench" (echo) and reports to its parent how many
// calls it executed. argv[2]: its label.
import { Differential } from "./sdk.mjs";

const label = process.argv[2] ?? "worker";
let executed = 0;
const report = () => process.connected && process.send({ type: "executed", label, executed });

process.on("disconnect", () => process.exit(0));
process.on("message", (m) => {
  if (m?.type === "report") report();
  if (m?.type === "exit") process.exit(0);
});

const d = new Differential(process.env.DIFFPLANE_API_SECRET, {
  endpoint: process.env.DIFFPLANE_ENDPOINT,
});
await d
  .service({
    name: "bench",
    functions: {
      echo: async (i) => {
        executed += 1;
        return { i };
      },
    },
  })
  .start();
process.send({ type: "ready", label });
