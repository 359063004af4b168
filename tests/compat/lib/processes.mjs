// Every process a test spawns is registered here, so that nothing outlives the test file:
// on exit (normal, failed assertion, uncaught error) and on SIGINT/SIGTERM/SIGHUP we
// SIGKILL whatever is still alive. Children also watch their IPC channel and exit when
// it closes (see fixtures/), which covers a parent that is itself SIGKILLed.
import { fork } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const live = new Set(); // { pid } of every process we started that has not exited

/** Registers a pid (also of a grandchild, such as the server behind its guard). */
export function trackPid(pid) {
  const entry = { pid };
  live.add(entry);
  return () => live.delete(entry);
}

/** SIGKILLs every tracked process still alive; synchronous, safe in an 'exit' handler. */
export function killAll() {
  for (const { pid } of live) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  live.clear();
}

process.on("exit", killAll);
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.once(signal, () => {
    killAll();
    process.exit(128 + os.constants.signals[signal]);
  });
}

let logDir;
/** This test file's log directory; removed at exit when the file passed. */
export function logDirectory() {
  if (!logDir) {
    const stem = path.basename(process.argv[1] ?? "test").replace(/\.test\.mjs$/, "");
    logDir = fs.mkdtempSync(path.join(os.tmpdir(), `diffplane-compat-${stem}-`));
    process.on("exit", (code) => {
      const failed = code !== 0 || (process.exitCode ?? 0) !== 0;
      if (!failed && !process.env.DIFFPLANE_COMPAT_KEEP_LOGS) {
        fs.rmSync(logDir, { recursive: true, force: true });
      } else {
        process.stderr.write(`# logs kept in ${logDir}\n`);
      }
    });
  }
  return logDir;
}

/** The last `lines` lines of a text file ('' if missing). */
export function tail(file, lines = 40) {
  try {
    const text = fs.readFileSync(file, "utf8");
    return text.split("\n").slice(-lines - 1).join("\n");
  } catch {
    return "";
  }
}

/**
 * A node child process with an IPC channel (structured-clone serialization), its output
 * in a log file. Messages it sends are kept in `messages` and can be awaited.
 */
export class NodeChild {
  constructor(script, { args = [], env = {}, name }) {
    this.name = name ?? path.basename(script, ".mjs");
    this.logFile = path.join(logDirectory(), `${this.name}.log`);
    const fd = fs.openSync(this.logFile, "a");
    this.messages = [];
    this.waiters = new Set();
    this.child = fork(script, args, {
      env: { ...process.env, ...env },
      stdio: ["ignore", fd, fd, "ipc"],
      serialization: "advanced",
    });
    fs.closeSync(fd);
    this.pid = this.child.pid;
    const untrack = trackPid(this.pid);
    this.exitInfo = null;
    this.exited = new Promise((resolve) => {
      this.child.once("exit", (code, signal) => {
        untrack();
        this.exitInfo = { code, signal };
        for (const w of this.waiters) w.onExit();
        resolve(this.exitInfo);
      });
    });
    this.child.on("error", () => {}); // reported through 'exit'
    this.child.on("message", (message) => {
      this.messages.push(message);
      for (const w of [...this.waiters]) w.check(message);
    });
  }

  get alive() {
    return this.exitInfo === null;
  }

  send(message) {
    if (this.alive && this.child.connected) this.child.send(message);
  }

  /** Resolves with the first message (past or future) matching `predicate`. */
  waitFor(predicate, { timeoutMs = 30_000, what = "a message", past = true } = {}) {
    if (past) {
      const found = this.messages.find(predicate);
      if (found) return Promise.resolve(found);
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        check: (m) => {
          if (predicate(m)) {
            done();
            resolve(m);
          }
        },
        onExit: () => {
          done();
          reject(new Error(`${this.name} exited (${JSON.stringify(this.exitInfo)}) before ${what}\n${tail(this.logFile)}`));
        },
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} from ${this.name}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      this.waiters.add(waiter);
      if (!this.alive) waiter.onExit();
    });
  }

  /** Sends a signal and waits for the exit (SIGKILL after `graceMs`). */
  async kill(signal = "SIGKILL", graceMs = 5000) {
    if (!this.alive) return this.exitInfo;
    try {
      this.child.kill(signal);
    } catch {
      // gone
    }
    const timer = setTimeout(() => this.alive && this.child.kill("SIGKILL"), graceMs);
    const info = await this.exited;
    clearTimeout(timer);
    return info;
  }
}
