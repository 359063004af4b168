// A Postgres of the test's own (scripts/pg in a fresh temporary directory), so that it
// can be restarted, frozen and have its backends killed without touching the shared
// test Postgres or anyone else's. Runs as the `postgres` user when we are root.
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

import { repoDir } from "../../compat/lib/server.mjs";

const run = promisify(execFile);
const pgBin = "/usr/lib/postgresql/15/bin";
const pgScript = path.join(repoDir, "scripts", "pg");

function asPostgres(command, args) {
  return process.getuid() === 0 ? ["runuser", ["-u", "postgres", "--", command, ...args]] : [command, args];
}

export class PrivatePostgres {
  static async start() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "diffplane-chaos-"));
    const pg = new PrivatePostgres(dir);
    const { stdout } = await run(pgScript, ["start", dir]);
    pg.adminUrl = stdout.trim().split("\n").pop();
    return pg;
  }

  constructor(dir) {
    this.dir = dir;
    this.frozen = [];
  }

  async createDatabase() {
    const { stdout } = await run(pgScript, ["createdb", this.dir]);
    const url = stdout.trim().split("\n").pop();
    this.database = /^postgresql:\/\/[^/]*\/([^?]+)/.exec(url)[1];
    return url;
  }

  async psql(url, sql) {
    const { stdout } = await run("psql", [url, "-qAtc", sql]);
    return stdout.trim();
  }

  /** pg_ctl restart with `mode` (fast or immediate); resolves once it accepts again. */
  async restart(mode) {
    // With its own log file: a postmaster writing to our pipe would keep it open forever.
    const log = path.join(this.dir, "postgres.log");
    const [cmd, args] = asPostgres(`${pgBin}/pg_ctl`, ["-D", path.join(this.dir, "data"), "-l", log, "-m", mode, "-w", "-t", "60", "restart"]);
    await run(cmd, args);
  }

  /** Ends every backend of our database; resolves with how many. */
  async terminateBackends() {
    const count = await this.psql(
      this.adminUrl,
      `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '${this.database}' AND pid <> pg_backend_pid()`,
    );
    return Number(count);
  }

  postmasterPid() {
    return Number(fs.readFileSync(path.join(this.dir, "data", "postmaster.pid"), "utf8").split("\n")[0]);
  }

  /** SIGSTOPs the postmaster (first, so it forks nothing new) and every child of it. */
  async freeze() {
    const postmaster = this.postmasterPid();
    process.kill(postmaster, "SIGSTOP");
    this.frozen = [postmaster];
    const { stdout } = await run("ps", ["-o", "pid=", "--ppid", String(postmaster)]);
    for (const pid of stdout.split("\n").map((s) => Number(s.trim())).filter(Boolean)) {
      try {
        process.kill(pid, "SIGSTOP");
        this.frozen.push(pid);
      } catch {
        // ended meanwhile
      }
    }
    return this.frozen.length;
  }

  thaw() {
    for (const pid of this.frozen) {
      try {
        process.kill(pid, "SIGCONT");
      } catch {
        // gone
      }
    }
    this.frozen = [];
  }

  async stop() {
    this.thaw();
    await run(pgScript, ["stop", this.dir]).catch(() => {});
  }
}
