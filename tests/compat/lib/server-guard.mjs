// Runs `diffplane serve` as its child and SIGKILLs it when the test process that forked
// us goes away (its IPC channel closes), even if that process was itself SIGKILLed.
// argv: <binary> <args...>. Messages in: {type:"signal", signal}. Messages out:
// {type:"spawned", pid}, {type:"exit", code, signal}.
import { spawn } from "node:child_process";

const [bin, ...args] = process.argv.slice(2);
const server = spawn(bin, args, { stdio: ["ignore", "inherit", "inherit"] });

const send = (message) =>
  new Promise((resolve) => {
    if (!process.connected) return resolve();
    process.send(message, () => resolve());
  });

server.on("error", async (err) => {
  console.error(`server-guard: cannot start ${bin}: ${err.message}`);
  await send({ type: "exit", code: 127, signal: null, error: err.message });
  process.exit(127);
});
if (server.pid) send({ type: "spawned", pid: server.pid });

server.on("exit", async (code, signal) => {
  await send({ type: "exit", code, signal });
  process.exit(0);
});

process.on("message", (message) => {
  if (message?.type === "signal") {
    try {
      server.kill(message.signal);
    } catch {
      // already gone
    }
  }
});

const killServerAndLeave = () => {
  try {
    server.kill("SIGKILL");
  } catch {
    // already gone
  }
  process.exit(0);
};
process.on("disconnect", killServerAndLeave);
process.on("SIGTERM", killServerAndLeave);
process.on("SIGINT", killServerAndLeave);
process.on("SIGHUP", killServerAndLeave);
