// One chaos run: a Postgres of its own, a real server on it, steady load, then each
// fault in turn. After each fault it waits for service to resume and lets the load run
// steadily for a while; at the end every call the client saw acknowledged must have
// completed with its own result. Prints a table of what was injected and observed.
import assert from "node:assert/strict";
import crypto from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";

import { Api } from "../../compat/lib/http.mjs";
import { Server } from "../../compat/lib/server.mjs";
import { Load, rssMb } from "./load.mjs";
import { PrivatePostgres } from "./postgres.mjs";

/** Most time from the database's return to the first acknowledged new create. */
export const RESUME_LIMIT_MS = 2000;
const STEADY_MS = 3000;

/** The faults, each resolving with when the database was back and what was done. */
export const faults = {
  terminateBackends: {
    name: "pg_terminate_backend",
    async inject({ pg }) {
      const ended = await pg.terminateBackends();
      return { detail: `${ended} backends ended` };
    },
  },
  restartFast: {
    name: "restart (fast)",
    async inject({ pg }) {
      await pg.restart("fast");
      return { detail: "pg_ctl -m fast restart" };
    },
  },
  restartImmediate: {
    name: "restart (immediate)",
    async inject({ pg }) {
      await pg.restart("immediate");
      return { detail: "pg_ctl -m immediate restart" };
    },
  },
  freeze20s: {
    name: "SIGSTOP 20 s",
    frozenMs: 20_000,
    async inject({ pg }) {
      const processes = await pg.freeze();
      await sleep(this.frozenMs);
      pg.thaw();
      return { detail: `${processes} processes stopped, then SIGCONT` };
    },
  },
};

function summarize(attempts) {
  const by = { ok: 0, refusedFull: 0, unavailable: 0, gaveUp: 0, other: 0 };
  let maxWait = 0;
  for (const a of attempts) {
    if (a.status === 201) by.ok++;
    else if (a.status === 503 && a.retryAfter && /writer-queue-limit/.test(a.message ?? "")) by.refusedFull++;
    else if (a.status === 503) by.unavailable++;
    else if (a.status === 0) by.gaveUp++;
    else by.other++;
    if (a.status !== 0) maxWait = Math.max(maxWait, a.answeredAt - a.sentAt);
  }
  return { ...by, maxWait };
}

function printTable(rows, log) {
  const head = ["fault", "what was done", "creates during (201/503 full/503 db/gave up)", "longest answer", "resumed after", "RSS MB (base → after)"];
  const lines = rows.map((r) => [
    r.name,
    r.detail,
    `${r.during.ok}/${r.during.refusedFull}/${r.during.unavailable}/${r.during.gaveUp}`,
    `${r.during.maxWait} ms`,
    r.resumeMs === null ? "never" : `${r.resumeMs} ms`,
    `${r.baseline.toFixed(0)} → ${r.rss.toFixed(0)}`,
  ]);
  const widths = head.map((h, k) => Math.max(h.length, ...lines.map((l) => l[k].length)));
  const fmt = (cells) => `| ${cells.map((c, k) => c.padEnd(widths[k])).join(" | ")} |`;
  log(fmt(head));
  log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const l of lines) log(fmt(l));
}

/** Runs `list` (entries of `faults`) against one server; throws on a broken promise. */
export async function runChaos(t, list, { extraArgs = [], callTimeoutMs = 3000, check = () => {} } = {}) {
  const log = (line) => {
    t.diagnostic(line);
    process.stderr.write(`# ${line}\n`);
  };
  const pg = await PrivatePostgres.start();
  let server = null;
  let load = null;
  try {
    const databaseUrl = await pg.createDatabase();
    // DIFFPLANE_CHAOS_EXTRA_ARGS: more server flags (`--flag value` pairs, replacing the
    // test's own), e.g. a run with the timeouts off: "--writer-statement-timeout-ms 0".
    const more = (process.env.DIFFPLANE_CHAOS_EXTRA_ARGS ?? "").split(" ").filter(Boolean);
    const kept = [];
    for (let k = 0; k < extraArgs.length; k += 2) {
      if (!more.includes(extraArgs[k])) kept.push(extraArgs[k], extraArgs[k + 1]);
    }
    server = await Server.start({ databaseUrl, extraArgs: [...kept, ...more] });
    const management = new Api(server.url, server.managementSecret);
    const cluster = await management.createCluster(`chaos-${crypto.randomBytes(4).toString("hex")}`);
    load = new Load(server.url, cluster.apiSecret, { callTimeoutMs });
    load.start();
    await sleep(STEADY_MS);
    const baseline = rssMb(server.pid);
    const rows = [];
    log(`steady load for ${STEADY_MS} ms; baseline RSS ${baseline.toFixed(0)} MB`);
    for (const fault of list) {
      log(`injecting: ${fault.name}`);
      const injectedAt = Date.now();
      const { detail } = await fault.inject({ pg, load, server });
      const returnedAt = Date.now();
      // The first create sent after the database returned that was acknowledged.
      let resumedAt = null;
      const deadline = returnedAt + 15_000;
      while (resumedAt === null && Date.now() < deadline) {
        await sleep(50);
        const ok = load.attemptsSent(returnedAt, Infinity).filter((a) => a.status === 201);
        if (ok.length > 0) resumedAt = Math.min(...ok.map((a) => a.answeredAt));
      }
      await sleep(STEADY_MS);
      rows.push({
        name: fault.name,
        detail,
        during: summarize(load.attemptsSent(injectedAt, returnedAt)),
        injectedAt,
        returnedAt,
        resumeMs: resumedAt === null ? null : resumedAt - returnedAt,
        baseline,
        rss: rssMb(server.pid),
      });
    }
    await load.stopCreating();
    log(`load stopped; waiting for ${load.ackedIds().length} acknowledged calls to complete`);
    const verdict = await load.verify(30_000);
    await load.stopWorking();
    const foreign = Number(await pg.psql(databaseUrl, `SELECT count(*) FROM jobs WHERE id NOT LIKE '${load.prefix}-%'`));
    const stored = Number(await pg.psql(databaseUrl, "SELECT count(*) FROM jobs"));
    const runTwice = [...load.executions.values()].filter((n) => n > 1).length;

    printTable(rows, log);
    log(
      `calls: ${load.calls.size} made, ${verdict.acked} acknowledged (201), ${verdict.succeeded} of those succeeded with their own result, ` +
        `${verdict.wrong.length} with a wrong result; ${stored} jobs stored (${stored - verdict.acked} never acknowledged: ` +
        `in-doubt creates whose caller stopped retrying), ${foreign} not from an executionId; ${runTwice} jobs ran twice (at least once)`,
    );

    if (verdict.missing.length > 0) {
      const examples = verdict.missing.slice(0, 5).map((m) => `${m.id}: ${m.status}, ran ${load.executions.get(m.id) ?? 0} times`);
      log(`not completed: ${verdict.missing.length}, e.g. ${examples.join("; ")}; last poll error: ${load.pollErrors ?? "none"}`);
    }
    assert.deepStrictEqual(verdict.missing.slice(0, 5), [], "every acknowledged call completes");
    assert.deepStrictEqual(verdict.wrong.slice(0, 5), [], "every result belongs to its call");
    assert.equal(foreign, 0, "no job other than the callers' execution ids");
    for (const row of rows) {
      assert.ok(row.resumeMs !== null && row.resumeMs <= RESUME_LIMIT_MS, `${row.name}: service resumed ${row.resumeMs} ms after the database returned (limit ${RESUME_LIMIT_MS})`);
      assert.ok(row.rss <= row.baseline + Math.max(64, row.baseline * 0.5), `${row.name}: RSS ${row.rss.toFixed(0)} MB vs baseline ${row.baseline.toFixed(0)} MB`);
    }
    check(rows);
  } catch (err) {
    if (server) process.stderr.write(`\n--- tail of ${server.logFile}\n${server.logTail(80)}\n`);
    throw err;
  } finally {
    if (load) {
      await load.stopCreating();
      await load.stopWorking();
    }
    pg.thaw();
    if (server) await server.stop();
    await pg.stop();
  }
}
