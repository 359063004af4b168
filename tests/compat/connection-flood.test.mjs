// 5,000 connections that send nothing or drip a request a byte a second, spread over 40
// loopback source addresses, while the real SDK keeps calling: every call succeeds in
// normal time, the server's memory stays bounded and comes back down, and the idle
// timeout cuts the drippers (each byte does not keep them alive). Meanwhile one more
// address opens 300 connections: 256 are held, the rest answered 429.
//
// Node rather than C++: the calls must be the published SDK's, and node holds 5,000
// sockets in one event loop with a single timer driving the drip.
import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

import { compatTest } from "./lib/harness.mjs";

const CONNECTIONS = 5000;
const ADDRESSES = 40; // 127.0.1.1 .. 127.0.1.40: 125 each, under the limit below
// And from one more address, 127.0.2.1, more than --max-connections-per-address allows:
// a strict setting here (the default, 4096, admits SDK processes with thousands of
// calls in flight).
const PER_ADDRESS_LIMIT = 256;
const BURST = 300;
const IDLE_TIMEOUT_S = 20;
const HOLD_MS = 10_000; // SDK calls while all connections are open
// What the flood may add to the server's resident memory. Measured: about 3.5 KiB a
// connection (session, stream and its timer, parser, read buffer), 17 MiB for 5,000
// over a 20 MiB baseline. Twice that leaves room for allocator slack; a leak per
// connection or per dripped byte would show as several times more.
const PEAK_GROWTH_BOUND_KIB = 32 * 1024;
// Once they are cut, memory must come back near the baseline. jemalloc gives freed pages
// back after its decay time (10 s, counted in allocator activity, which the SDK calls
// going on provide); measured: 5 MiB over the baseline 10.5 s after the cut.
const AFTER_GROWTH_BOUND_KIB = 8 * 1024;
const SETTLE_MS = 15_000;
// A call's round trip takes about 2 s with or without the flood (the SDK polls for
// results on its own schedule); one stuck behind the flood would take the whole idle
// timeout. Two polling cycles.
const CALL_BOUND_MS = 4000;

const DRIP = "GET /live HTTP/1.1\r\nHost: flood\r\nX-Drip: " + "a".repeat(200);

function rssKiB(pid) {
  const line = fs.readFileSync(`/proc/${pid}/status`, "utf8").match(/^VmRSS:\s+(\d+)/m);
  return Number(line[1]);
}

async function metric(server, sample) {
  const res = await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`);
  const text = await res.text();
  const line = text.split("\n").find((l) => l.startsWith(sample + " "));
  return line ? Number(line.slice(sample.length + 1)) : 0;
}

const gauge = 'diffplane_http_connections_open{listener="gateway"}';
const refused = (limit) => `diffplane_http_connections_refused_total{listener="gateway",limit="${limit}"}`;

/** Opens one connection from `localAddress`; resolves with its record once connected. */
function open(port, localAddress, kind) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port, localAddress });
    const record = { socket, kind, openedAt: 0, closedAt: 0, sent: 0, answered: false, text: "" };
    socket.once("connect", () => {
      record.openedAt = Date.now();
      resolve(record);
    });
    socket.on("data", (chunk) => {
      record.answered = true;
      record.text += chunk.toString("latin1");
    });
    socket.on("error", () => {}); // a reset is an end like any other
    socket.once("close", () => (record.closedAt = Date.now()));
    socket.once("error", reject);
  });
}

/** Keeps SDK calls running `parallel` at a time until `stop()`; returns their replies. */
function keepCalling(caller, parallel) {
  const replies = [];
  let running = true;
  let next = 0;
  const loops = Array.from({ length: parallel }, async () => {
    while (running) {
      const i = next++;
      const started = Date.now();
      const reply = await caller.call("par", "square", [i], { timeoutMs: 30_000 });
      replies.push({ ...reply, i, at: started, roundTrip: Date.now() - started });
    }
  });
  return {
    replies,
    async stop() {
      running = false;
      await Promise.all(loops);
      return replies;
    },
  };
}

function percentile(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] : 0;
}

// jemalloc returns freed pages only while the allocator is busy or when a background
// thread purges them, so an idle server could keep its peak long after the flood. Prompt
// purging lets the test tell memory that was freed from memory that leaked.
process.env.MALLOC_CONF = "background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0";

compatTest(
  "connection flood: 5,000 idle and slow-drip connections leave SDK calls and memory unharmed",
  {
    timeout: 180_000,
    serverArgs: [
      "--idle-timeout",
      String(IDLE_TIMEOUT_S),
      "--max-connections-per-address",
      String(PER_ADDRESS_LIMIT),
      "--metrics-listen",
      "127.0.0.1:0",
    ],
  },
  async (env, t) => {
    const server = env.server;
    const pid = server.pid;
    await env.startWorker("parallel", { jobPollWaitTime: 5000 });
    const caller = await env.startCaller();

    // Baseline: the server warmed up by calls, before the flood.
    const warm = keepCalling(caller, 4);
    await sleep(3000);
    const baseline = await warm.stop();
    const rssBaseline = rssKiB(pid);

    const calls = keepCalling(caller, 4);
    const floodStart = Date.now();
    const records = [];
    for (let batch = 0; batch < CONNECTIONS; batch += 250) {
      const opening = [];
      for (let i = batch; i < Math.min(CONNECTIONS, batch + 250); i++) {
        const localAddress = `127.0.1.${(i % ADDRESSES) + 1}`;
        opening.push(open(server.port, localAddress, i % 2 === 0 ? "idle" : "drip"));
      }
      records.push(...(await Promise.all(opening)));
    }
    const openMs = Date.now() - floodStart;
    const burst = await Promise.all(
      Array.from({ length: BURST }, () => open(server.port, "127.0.2.1", "burst")),
    );
    const drippers = records.filter((r) => r.kind === "drip");
    const drip = setInterval(() => {
      for (const r of drippers) {
        if (r.closedAt || r.sent >= DRIP.length) continue;
        r.socket.write(DRIP[r.sent++]);
      }
    }, 1000);

    try {
      let openAtPeak = 0;
      let rssPeak = 0;
      const holdUntil = Date.now() + HOLD_MS;
      while (Date.now() < holdUntil) {
        rssPeak = Math.max(rssPeak, rssKiB(pid));
        openAtPeak = Math.max(openAtPeak, await metric(server, gauge));
        await sleep(500);
      }
      const stillOpen = records.filter((r) => !r.closedAt).length;
      const burstRefused = burst.filter((r) => r.text.startsWith("HTTP/1.1 429 ") && r.closedAt);
      const burstHeld = burst.filter((r) => !r.closedAt && !r.answered);
      const callsDuringFlood = calls.replies.length;

      // The idle timeout ends every one of them: the drippers too, whose bytes keep
      // arriving but whose request never completes.
      const cutBy = floodStart + openMs + (IDLE_TIMEOUT_S + 5) * 1000;
      while ([...records, ...burst].some((r) => !r.closedAt) && Date.now() < cutBy) {
        rssPeak = Math.max(rssPeak, rssKiB(pid));
        await sleep(500);
      }
      clearInterval(drip);
      const notCut = records.filter((r) => !r.closedAt);
      const lifetimes = (kind) =>
        records
          .filter((r) => r.kind === kind && r.closedAt)
          .map((r) => r.closedAt - r.openedAt)
          .sort((a, b) => a - b);
      const idleLives = lifetimes("idle");
      const dripLives = lifetimes("drip");
      const openAfter = await metric(server, gauge);
      // jemalloc gives freed pages back to the kernel after its decay time (10 s),
      // counted in allocator activity: the SDK calls going on provide it.
      let rssAfter = rssKiB(pid);
      const settleBy = Date.now() + SETTLE_MS;
      while (rssAfter - rssBaseline > AFTER_GROWTH_BOUND_KIB && Date.now() < settleBy) {
        await sleep(500);
        rssAfter = rssKiB(pid);
      }
      const settleMs = SETTLE_MS - Math.max(0, settleBy - Date.now());
      const replies = await calls.stop();

      const ok = replies.filter((r) => r.ok);
      const trips = replies.map((r) => r.roundTrip).sort((a, b) => a - b);
      const baseTrips = baseline.map((r) => r.roundTrip).sort((a, b) => a - b);
      const refusedPerAddress = await metric(server, refused("per_address"));
      const refusedTotal = await metric(server, refused("total"));
      const mib = (kib) => (kib / 1024).toFixed(1);
      const rows = [
        ["connections opened", `${records.length} from ${ADDRESSES} addresses in ${openMs} ms`],
        ["open at peak (gauge)", openAtPeak],
        ["still open after hold", stillOpen],
        ["RSS baseline / peak / after", `${mib(rssBaseline)} / ${mib(rssPeak)} / ${mib(rssAfter)} MiB (after ${settleMs} ms)`],
        ["RSS per held connection", `${(((rssPeak - rssBaseline) / (records.length + burstHeld.length)) * 1024).toFixed(0)} B`],
        ["SDK calls before (p50/p99/max ms)", `${baseline.length} (${percentile(baseTrips, 0.5)}/${percentile(baseTrips, 0.99)}/${baseTrips.at(-1)})`],
        ["SDK calls in flood (p50/p99/max ms)", `${replies.length}, ${callsDuringFlood} while all open, ${replies.length - ok.length} failed (${percentile(trips, 0.5)}/${percentile(trips, 0.99)}/${trips.at(-1)})`],
        ["idle cut after (min/max ms)", `${idleLives[0]}/${idleLives.at(-1)}`],
        ["drip cut after (min/max ms)", `${dripLives[0]}/${dripLives.at(-1)}`],
        ["burst from one address", `${BURST}: ${burstHeld.length} held, ${burstRefused.length} answered 429`],
        ["refused per address / total (metric)", `${refusedPerAddress} / ${refusedTotal}`],
        ["open after cut (gauge)", openAfter],
      ];
      for (const [k, v] of rows) t.diagnostic(`${k.padEnd(36)} ${v}`);

      assert.equal(records.length, CONNECTIONS);
      assert.ok(openAtPeak >= CONNECTIONS, `the server held all ${CONNECTIONS} (gauge ${openAtPeak})`);
      assert.equal(stillOpen, CONNECTIONS, "no connection was cut before the idle timeout");
      assert.equal(burstHeld.length, PER_ADDRESS_LIMIT, "the burst's address held its limit");
      assert.equal(burstRefused.length, BURST - PER_ADDRESS_LIMIT, "the rest got 429 and were closed");
      assert.ok(burstRefused.every((r) => r.text.includes("too many connections from this address")));
      assert.equal(refusedPerAddress, BURST - PER_ADDRESS_LIMIT, "only the burst was refused");
      assert.equal(refusedTotal, 0, "the process limit was not reached");
      assert.equal(ok.length, replies.length, `failed calls: ${JSON.stringify(replies.filter((r) => !r.ok).slice(0, 3))}`);
      assert.ok(callsDuringFlood >= 20, `SDK calls went on during the flood (${callsDuringFlood})`);
      assert.ok(trips.at(-1) <= CALL_BOUND_MS, `slowest call ${trips.at(-1)} ms`);
      assert.deepEqual(notCut.length, 0, "every flood connection was cut by the idle timeout");
      assert.ok(records.every((r) => !r.answered), "no flood connection got an answer");
      for (const lives of [idleLives, dripLives]) {
        assert.ok(lives[0] >= (IDLE_TIMEOUT_S - 1) * 1000, `cut early: ${lives[0]} ms`);
        assert.ok(lives.at(-1) <= (IDLE_TIMEOUT_S + 5) * 1000, `cut late: ${lives.at(-1)} ms`);
      }
      assert.ok(rssPeak - rssBaseline <= PEAK_GROWTH_BOUND_KIB, `peak grew ${mib(rssPeak - rssBaseline)} MiB`);
      assert.ok(rssAfter - rssBaseline <= AFTER_GROWTH_BOUND_KIB, `after grew ${mib(rssAfter - rssBaseline)} MiB`);
    } finally {
      clearInterval(drip);
      for (const r of records) r.socket.destroy();
    }
  },
);
