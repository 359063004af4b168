// Starting and stopping `diffplane serve` on its own port and its own database.
import { execFile, fork } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";

import { fetchTrusting } from "./http.mjs";
import { logDirectory, tail, trackPid } from "./processes.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
export const compatDir = path.resolve(here, "..");
export const repoDir = path.resolve(compatDir, "..", "..");

/** The server binary: $DIFFPLANE_BIN, else build/cli/diffplane of this checkout. */
export function serverBinary() {
  const bin = process.env.DIFFPLANE_BIN || path.join(repoDir, "build", "cli", "diffplane");
  if (!fs.existsSync(bin)) {
    throw new Error(`server binary not found: ${bin} (set DIFFPLANE_BIN)`);
  }
  return bin;
}

/** A fresh database in the throwaway Postgres of $DIFFPLANE_TEST_PG_DIR; its URL. */
export async function createDatabase() {
  const pgDir = process.env.DIFFPLANE_TEST_PG_DIR;
  if (!pgDir) {
    throw new Error(
      "DIFFPLANE_TEST_PG_DIR is not set. ctest sets it; by hand run " +
        "`scripts/pg start /tmp/compat-pg` and export DIFFPLANE_TEST_PG_DIR=/tmp/compat-pg",
    );
  }
  const { stdout } = await promisify(execFile)(path.join(repoDir, "scripts", "pg"), ["createdb", pgDir]);
  const url = stdout.trim().split("\n").pop();
  if (!url.startsWith("postgres")) throw new Error(`scripts/pg createdb printed no URL: ${stdout}`);
  return url;
}

/**
 * A self-signed certificate for localhost and 127.0.0.1 made by scripts/make-cert in
 * this test file's log directory: {cert, key} paths and `ca`, the certificate's PEM text.
 */
export async function makeCertificate() {
  const dir = path.join(logDirectory(), "tls");
  const { stdout } = await promisify(execFile)(path.join(repoDir, "scripts", "make-cert"), [dir]);
  const [cert, key] = stdout.trim().split(" ");
  return { cert, key, ca: fs.readFileSync(cert, "utf8") };
}

export function randomManagementSecret() {
  return `sk_management_${crypto.randomBytes(16).toString("hex")}`;
}

let serverCount = 0;

/**
 * One `diffplane serve` process (behind lib/server-guard.mjs). Without a `port`, the
 * first launch listens on port 0 and reads the port the kernel chose from its
 * `--port-file`: no port is picked here and handed over later, when a parallel test may
 * have taken it. `restart()` starts a new process with the same arguments on that same
 * port (SDK clients hold the URL) and the same database.
 */
export class Server {
  constructor({ databaseUrl, port, managementSecret, machineStallSeconds, tls, extraArgs = [] }) {
    this.databaseUrl = databaseUrl;
    this.port = port ?? 0;
    this.managementSecret = managementSecret;
    this.url = null; // known once launched
    this.metricsPort = null; // with --metrics-listen in extraArgs
    this.tls = tls ?? null; // {cert, key, ca} from makeCertificate(): HTTPS only
    this.bin = serverBinary();
    this.options = [
      "--database-url",
      databaseUrl,
      "--management-secret",
      managementSecret,
      "--log-level",
      process.env.DIFFPLANE_COMPAT_LOG_LEVEL || "warn",
      ...(machineStallSeconds ? ["--machine-stall-seconds", String(machineStallSeconds)] : []),
      ...(tls ? ["--tls-cert", tls.cert, "--tls-key", tls.key] : []),
      ...extraArgs,
    ];
    const name = `server-${++serverCount}`;
    this.logFile = path.join(logDirectory(), `${name}.log`);
    this.portFile = path.join(logDirectory(), `${name}.ports`);
    this.proc = null;
  }

  static async start(options = {}) {
    const server = new Server({
      databaseUrl: options.databaseUrl ?? (await createDatabase()),
      port: options.port,
      managementSecret: options.managementSecret ?? randomManagementSecret(),
      machineStallSeconds: options.machineStallSeconds,
      tls: options.tls,
      extraArgs: options.extraArgs,
    });
    await server.launch();
    return server;
  }

  get args() {
    return ["serve", "--listen", `127.0.0.1:${this.port}`, "--port-file", this.portFile, ...this.options];
  }

  /** Starts the process, reads its ports from the port file, waits until GET /live answers 200. */
  async launch() {
    const args = this.args;
    fs.rmSync(this.portFile, { force: true }); // a restart must not read the last one
    fs.appendFileSync(this.logFile, `\n=== ${new Date().toISOString()} ${this.bin} ${args.join(" ").replace(this.managementSecret, "sk_management_***")}\n`);
    const fd = fs.openSync(this.logFile, "a");
    const guard = fork(path.join(here, "server-guard.mjs"), [this.bin, ...args], {
      stdio: ["ignore", fd, fd, "ipc"],
    });
    fs.closeSync(fd);
    const untrackGuard = trackPid(guard.pid);
    const proc = { guard, pid: null, exitInfo: null };
    let untrackServer = () => {};
    proc.spawned = new Promise((resolve) => {
      guard.once("exit", () => resolve(null));
      guard.on("message", (m) => {
        if (m.type === "spawned") {
          proc.pid = m.pid;
          untrackServer = trackPid(m.pid);
          resolve(m.pid);
        } else if (m.type === "exit") {
          proc.exitInfo = { code: m.code, signal: m.signal };
          resolve(null);
        }
      });
    });
    proc.exited = new Promise((resolve) => {
      guard.once("exit", (code, signal) => {
        untrackGuard();
        untrackServer();
        proc.exitInfo ??= { code: null, signal: null, guard: { code, signal } };
        resolve(proc.exitInfo);
      });
    });
    this.proc = proc;
    await proc.spawned;
    const ports = await this.waitPortFile();
    // A restart asks for this port again: it was this server's own a moment ago.
    this.port = ports.http;
    this.metricsPort = ports.metrics ?? null;
    this.nativePort = ports.native ?? null; // with --native-listen in extraArgs
    this.url = `${this.tls ? "https" : "http"}://127.0.0.1:${this.port}`;
    await this.waitLive();
  }

  get pid() {
    return this.proc?.pid;
  }

  get alive() {
    return this.proc !== null && this.proc.exitInfo === null;
  }

  logTail(lines = 60) {
    return tail(this.logFile, lines);
  }

  /**
   * The ports the server wrote once it listened ({http, metrics?}). It renames the whole
   * file into place, so it is never read half written. Start-up (migrations, loading
   * clusters) comes first: the deadline is generous for a loaded machine.
   */
  async waitPortFile(timeoutMs = 60_000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.alive) {
        throw new Error(`server exited while starting: ${JSON.stringify(this.proc.exitInfo)}\n${this.logTail()}`);
      }
      let text = "";
      try {
        text = fs.readFileSync(this.portFile, "utf8");
      } catch {
        // not written yet
      }
      const ports = Object.fromEntries(
        text
          .split("\n")
          .filter((line) => line.includes("="))
          .map((line) => {
            const [name, value] = line.split("=");
            return [name, Number(value)];
          }),
      );
      if (ports.http) return ports;
      await sleep(50);
    }
    throw new Error(`server wrote no port file in ${timeoutMs} ms (${this.portFile})\n${this.logTail()}`);
  }

  async waitLive(timeoutMs = 20_000) {
    const deadline = Date.now() + timeoutMs;
    let last = "no answer";
    while (Date.now() < deadline) {
      if (!this.alive) {
        throw new Error(`server exited while starting: ${JSON.stringify(this.proc.exitInfo)}\n${this.logTail()}`);
      }
      try {
        const get = this.tls ? (url, init) => fetchTrusting(this.tls.ca, url, init) : fetch;
        const res = await get(`${this.url}/live`, { signal: AbortSignal.timeout(1000) });
        last = `${res.status} ${await res.text()}`;
        if (res.status === 200) return;
      } catch (err) {
        last = err.cause?.code ?? err.message;
      }
      await sleep(50);
    }
    throw new Error(`server not live after ${timeoutMs} ms (last: ${last})\n${this.logTail()}`);
  }

  /** SIGTERM, wait for the exit (SIGKILL after `graceMs`); resolves with {code, signal}. */
  async stop(graceMs = 15_000) {
    if (!this.alive) return this.proc?.exitInfo ?? null;
    this.proc.guard.send({ type: "signal", signal: "SIGTERM" });
    const timer = setTimeout(() => this.killNow(), graceMs);
    const info = await this.proc.exited;
    clearTimeout(timer);
    return info;
  }

  /** kill -9 the server process itself and wait until it is gone. */
  async kill9() {
    if (!this.alive) return this.proc?.exitInfo ?? null;
    this.killNow();
    return this.proc.exited;
  }

  killNow() {
    try {
      if (this.proc.pid) process.kill(this.proc.pid, "SIGKILL");
    } catch {
      // gone
    }
  }

  async restart() {
    if (this.alive) throw new Error("restart() needs a stopped server");
    await this.launch();
  }
}
