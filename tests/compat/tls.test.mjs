// The SDK over HTTPS: the server runs with --tls-cert/--tls-key and a self-signed
// certificate (scripts/make-cert) that the SDK processes trust through
// NODE_EXTRA_CA_CERTS, as a user would. Plain HTTP, or a client that does not trust the
// certificate, fails on its own connection only: the server keeps serving, counts the
// failed handshakes, and its metrics port stays plain HTTP.
import assert from "node:assert/strict";
import net from "node:net";

import { compatTest, since } from "./lib/harness.mjs";

/** The value of a Prometheus counter without labels (0 when absent). */
async function counter(metricsPort, name) {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(" ")[1]) : 0;
}

/** What a raw TCP client sending `bytes` gets before the server closes: {data, ms}. */
function rawExchange(port, bytes, timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const socket = net.connect(port, "127.0.0.1", () => socket.write(bytes));
    const chunks = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the connection open for ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on("data", (chunk) => chunks.push(chunk));
    socket.on("error", () => {}); // a reset also ends the exchange
    socket.on("close", () => {
      clearTimeout(timer);
      resolve({ data: Buffer.concat(chunks), ms: Date.now() - start });
    });
  });
}

compatTest(
  "tls: the SDK serves and calls over HTTPS; plain HTTP on the TLS port fails cleanly",
  { tls: true, serverArgs: ["--metrics-listen", "127.0.0.1:0"] },
  async (env, t) => {
    assert.match(env.endpoint, /^https:\/\/127\.0\.0\.1:\d+$/);
    const { port, metricsPort } = env.server;
    await env.startWorker("services", { jobPollWaitTime: 5000 });
    const caller = await env.startCaller();

    let start = Date.now();
    const first = await caller.call("calc", "add", [2, 3]);
    assert.ok(first.ok, `calc.add failed: ${JSON.stringify(first.error)}`);
    assert.equal(first.value, 5);
    const echoed = await caller.call("text", "echo", ["héllo über TLS"]);
    assert.equal(echoed.value, "héllo über TLS");
    t.diagnostic(`two SDK calls over HTTPS in ${since(start)}`);

    const failedBefore = await counter(metricsPort, "diffplane_tls_handshakes_failed_total");

    // A plain HTTP request on the TLS port: refused at the handshake, answered with no
    // HTTP at all, and the connection closed at once (not at the idle timeout).
    const plain = await rawExchange(port, "GET /live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    assert.ok(!plain.data.toString("latin1").includes("HTTP/1.1"), "no HTTP answer in the clear");
    assert.ok(plain.ms < 5000, `closed after ${plain.ms} ms`);
    await assert.rejects(fetch(`http://127.0.0.1:${port}/live`, { signal: AbortSignal.timeout(10_000) }), (err) => {
      assert.notEqual(err.name, "TimeoutError", "plain fetch must fail at once, not hang");
      return true;
    });

    // A TLS client that does not trust the certificate (this process has no
    // NODE_EXTRA_CA_CERTS) is refused by its own side; the server counts the handshake.
    await assert.rejects(fetch(`${env.endpoint}/live`), (err) => {
      assert.match(String(err.cause?.code ?? err.cause), /CERT|certificate/i);
      return true;
    });

    // Garbage that is neither HTTP nor TLS.
    await rawExchange(port, Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5]));

    const failedAfter = await counter(metricsPort, "diffplane_tls_handshakes_failed_total");
    assert.ok(failedAfter - failedBefore >= 4, `failed handshakes counted: ${failedBefore} -> ${failedAfter}`);

    // The server and the SDK go on as before.
    assert.deepEqual(await env.api.expect(200, "GET", "/live"), { status: "ok" });
    start = Date.now();
    const again = await caller.call("calc", "add", [40, 2]);
    assert.equal(again.value, 42);
    t.diagnostic(`SDK call after the failed connections in ${since(start)}`);
    assert.ok(env.server.alive);
  },
);
