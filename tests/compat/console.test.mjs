// The web console in a real browser: Debian's chromium, headless, driven by
// puppeteer-core (which never downloads a browser). Signs in (a wrong secret first),
// creates a cluster in the console, runs SDK calls against it, one of which stalls and
// is retried, informs resources that a controller works, and checks what the console
// shows of them, and of the node serving it all; screenshots of every page go to
// $DIFFPLANE_SCREENSHOT_DIR (the build folder under ctest).
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";

import { compatTest, since } from "./lib/harness.mjs";
import { Api } from "./lib/http.mjs";
import { logDirectory } from "./lib/processes.mjs";

/** The system's chromium: $CHROMIUM_PATH, else Debian's. */
function chromiumPath() {
  for (const candidate of [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"]) {
    if (candidate && fs.existsSync(candidate)) return candidate;
  }
  return null;
}

const browserPath = chromiumPath();
const screenshots = process.env.DIFFPLANE_SCREENSHOT_DIR || path.join(logDirectory(), "screenshots");

if (!browserPath) {
  test("console in a browser", { skip: "chromium is not installed (scripts/setup --with-node installs it): the console's browser test did not run" }, () => {});
} else {
  compatTest("console in a browser: sign-in, cluster, a stalled and retried job, charts, nodes, resources", { timeout: 150_000 }, async (env, t) => {
    const { default: puppeteer } = await import("puppeteer-core");
    fs.mkdirSync(screenshots, { recursive: true });
    const start = Date.now();
    const browser = await puppeteer.launch({
      executablePath: browserPath,
      headless: true,
      // root in CI and containers: chromium's sandbox needs user namespaces it may lack.
      args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"],
    });
    t.after(() => browser.close());
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 800 });
    const problems = [];
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`console error: ${message.text()}`);
    });
    const shot = (name) => page.screenshot({ path: path.join(screenshots, `${name}.png`) });
    const text = (selector) => page.$eval(selector, (element) => element.textContent);

    // The page and its headers.
    const response = await page.goto(`${env.endpoint}/console`, { waitUntil: "networkidle0" });
    assert.equal(response.status(), 200);
    assert.match(response.headers()["content-type"], /^text\/html/);
    assert.match(response.headers()["content-security-policy"], /frame-ancestors 'none'/);
    assert.equal(response.headers()["x-frame-options"], "DENY");

    // A wrong secret is refused with a clear error.
    await page.type("#secret", "sk_management_this_is_not_the_right_secret");
    await page.click("form.sign-in button[type=submit]");
    await page.waitForFunction(() => document.querySelector("#sign-in-error")?.textContent.includes("Wrong management secret"));
    await shot("sign-in-wrong-secret");

    // The right one, then a cluster created in the console.
    await page.$eval("#secret", (input) => (input.value = ""));
    await page.type("#secret", env.server.managementSecret);
    await page.click("form.sign-in button[type=submit]");
    await page.waitForSelector("#create-cluster");
    const description = `made in the browser ${Date.now()}`;
    await page.type("#description", description);
    await page.click("#create-cluster button[type=submit]");
    await page.waitForFunction((d) => [...document.querySelectorAll("table.clusters td")].some((td) => td.textContent === d), {}, description);
    const clusterId = await page.$$eval(
      "table.clusters tbody tr",
      (rows, d) => rows.find((row) => row.textContent.includes(d)).querySelector("a").textContent,
      description,
    );
    await page.click(`button[data-reveal="${clusterId}"]`);
    const apiSecret = await text("table.clusters .secret-value");
    assert.match(apiSecret, /^sk_[0-9a-f]{64}$/);
    await shot("clusters");

    // SDK calls on that cluster: `flaky` hangs on its first attempt, stalls after 2 s and
    // answers on its retry.
    env.cluster = { id: clusterId, apiSecret };
    const worker = await env.startWorker("timeouts", { jobPollWaitTime: 5000 });
    const caller = await env.startCaller();
    const replies = await Promise.all(
      ["one", "two"].map((key) => caller.call("slow", "flaky", [key, { $d: { timeoutSeconds: 2, retryCountOnStall: 1 } }])),
    );
    for (const reply of replies) assert.ok(reply.ok, `flaky call: ${JSON.stringify(reply.error)}`);
    assert.equal(worker.reports("attempt").length, 4);

    // The cluster page: the service, its active machine and both jobs.
    await page.goto(`${env.endpoint}/console#/clusters/${clusterId}`, { waitUntil: "networkidle0" });
    await page.waitForFunction(() => document.querySelectorAll("table.jobs a.job-link").length === 2 && document.querySelectorAll("table.jobs .badge-success").length === 2, { timeout: 15_000 });
    assert.match(await text(".services"), /slow/);
    assert.match(await text(".services"), /flaky/);
    assert.match(await text("table.machines"), /active/);
    assert.match(await text("#counts"), /2\s*success/);
    await page.waitForSelector("#cluster-activity li[data-type=jobStalled]");
    assert.match(await text("#cluster-activity"), /slow: stalled: timeout; retried/);
    await shot("cluster");
    await page.select("#state-filter", "failure");
    await page.waitForFunction(() => document.querySelector("#jobs .empty")?.textContent.includes("No failure job"));
    await page.select("#state-filter", "");
    await page.waitForSelector("table.jobs a.job-link");

    // The job page: the stall and the retry in the timeline, sizes but no contents.
    // Followed by hand: a refresh may replace the table between finding a link and clicking it.
    const jobHref = await page.$eval("table.jobs a.job-link", (a) => a.getAttribute("href"));
    await page.evaluate((href) => (location.hash = href), jobHref);
    await page.waitForSelector("#timeline li[data-type=jobResulted]");
    const stall = await text("#timeline li[data-type=jobStalled]");
    assert.match(stall, /stalled: timeout; retried/);
    assert.match(await text("#timeline"), /received by machine .* \(attempt 2\)/);
    assert.match(await text("dl.fields"), /2 of 2/);
    assert.equal(await page.$("pre.payload"), null, "payload contents appear only when asked for");
    await shot("job");

    // The metrics page: a chart with bars in it.
    await page.goto(`${env.endpoint}/console#/clusters/${clusterId}/metrics`, { waitUntil: "networkidle0" });
    await page.waitForSelector("#chart-results svg rect");
    assert.ok((await page.$$("#chart-results svg rect")).length > 0, "the jobs-per-minute chart is empty");
    assert.ok((await page.$$("#chart-time svg circle")).length > 0, "the execution-time chart is empty");
    assert.match(await text("#chart-functions"), /flaky/);
    await shot("metrics");

    await page.goto(`${env.endpoint}/console#/clusters/${clusterId}/settings`, { waitUntil: "networkidle0" });
    await page.waitForSelector("#predictive");
    await shot("settings");

    // The nodes page: this server is a node alone (no --caf-port) and serves both
    // clusters (the harness's and the console's), each under a lease it holds.
    await page.goto(`${env.endpoint}/console#/nodes`, { waitUntil: "networkidle0" });
    await page.waitForFunction((id) => document.querySelector("table.nodes")?.textContent.includes(id), { timeout: 10_000 }, clusterId);
    assert.equal((await page.$$("table.nodes tbody tr")).length, 1);
    assert.match(await text("#nodes-summary"), /^A single node: \S+ serves every cluster\. It was started without --caf-port/);
    assert.match(await text("table.nodes .heartbeat"), /^\d+ s ago$/);
    assert.match(await text("table.nodes tbody td:last-child"), /^2 /);
    assert.match(await text("table.nodes"), /not published/);
    const leases = await page.$$eval("table.leases tbody tr", (rows) => rows.map((row) => [...row.cells].map((cell) => cell.textContent)));
    const lease = leases.find((cells) => cells[0].includes(clusterId));
    assert.ok(lease, `no lease of ${clusterId} in ${JSON.stringify(leases)}`);
    assert.match(lease[3], /^in \d+ s$/);
    assert.equal(lease[4], "held");
    await shot("nodes");

    // Resources informed with the cluster's API secret: a controller of the kind "user"
    // syncs one, deletes one and fails one twice (degraded); 55 invoices have none and
    // stay scheduled, two pages of them.
    const controller = await env.startWorker("resources", { jobPollWaitTime: 5000 });
    const clusterApi = new Api(env.endpoint, apiSecret);
    const invoices = Array.from({ length: 55 }, (_, i) => ({ kind: "invoice", id: `inv-${String(i).padStart(2, "0")}`, object: { total: i } }));
    const informed = await clusterApi.request("POST", "/resources", {
      body: {
        resources: [
          { kind: "user", id: "ada", object: { name: "Ada" }, version: 3, tags: { team: "crm" } },
          { kind: "user", id: "gone", object: { gone: true } },
          { kind: "user", id: "broken", object: { fail: "upstream down" }, maxAttempts: 2 },
          ...invoices,
        ],
      },
    });
    assert.equal(informed.status, 200, informed.text);
    await page.goto(`${env.endpoint}/console#/clusters/${clusterId}/resources`, { waitUntil: "networkidle0" });
    const countsOf = () =>
      page.$$eval("table.resource-counts tbody tr", (rows) => Object.fromEntries(rows.map((row) => [row.cells[0].textContent, [...row.cells].slice(1).map((cell) => Number(cell.textContent))])));
    // scheduled, pending, synced, failed, degraded, expired, deleted, total
    const expected = { invoice: [55, 0, 0, 0, 0, 0, 0, 55], user: [0, 0, 1, 0, 1, 0, 1, 3], "all kinds": [55, 0, 1, 0, 1, 0, 1, 58] };
    await page.waitForFunction(
      (want) => {
        const rows = [...document.querySelectorAll("table.resource-counts tbody tr")];
        const got = Object.fromEntries(rows.map((row) => [row.cells[0].textContent, [...row.cells].slice(1).map((cell) => Number(cell.textContent))]));
        return JSON.stringify(got) === JSON.stringify(want);
      },
      { timeout: 30_000 },
      expected,
    ).catch(async (error) => assert.fail(`resource counts ${JSON.stringify(await countsOf())}: ${error.message}`));
    assert.equal(controller.reports("worked").length, 4);
    // In key order, 50 a page: the first page is invoices only, the next has the rest.
    assert.equal((await page.$$("table.resources tbody tr")).length, 50);
    const nextHref = await page.$eval("#next-page", (a) => a.getAttribute("href"));
    await page.evaluate((href) => (location.hash = href), nextHref);
    await page.waitForFunction(() => document.querySelector(".pager")?.textContent.includes("page 2: 8 resources"));
    assert.deepEqual(await page.$$eval("table.resources a.resource-link", (links) => links.map((a) => a.textContent)).then((ids) => ids.slice(5)), ["ada", "broken", "gone"]);
    assert.ok(await page.$("#first-page"));
    assert.equal(await page.$("#next-page"), null);
    // Filtered by state: the degraded one with its last error.
    await page.select("#resource-state-filter", "degraded");
    await page.waitForFunction(() => document.querySelectorAll("table.resources tbody tr").length === 1);
    const degraded = await page.$$eval("table.resources tbody td", (cells) => cells.map((cell) => cell.textContent));
    assert.deepEqual([degraded[1], degraded[2], degraded[3], degraded[8]], ["broken", "degraded", "2 of 2", "upstream down"]);
    // Filtered by kind: the kind's controller settings (the defaults) are shown.
    await page.goto(`${env.endpoint}/console#/clusters/${clusterId}/resources?kind=user`, { waitUntil: "networkidle0" });
    await page.waitForSelector(".kind-settings");
    assert.match(await text(".kind-settings"), /1000 ms doubling per attempt, at most 300000 ms/);
    assert.equal((await page.$$("table.resources tbody tr")).length, 3);
    await shot("resources");

    // A resource's page: attempts and errors; the object only when asked for.
    const brokenHref = await page.$$eval("table.resources a.resource-link", (links) => links.find((a) => a.textContent === "broken").getAttribute("href"));
    await page.evaluate((href) => (location.hash = href), brokenHref);
    await page.waitForSelector("#resource-fields");
    assert.match(await text("#resource-fields"), /degraded/);
    assert.match(await text("#resource-fields"), /2 of 2/);
    assert.deepEqual(await page.$$eval("table.resource-errors tbody tr", (rows) => rows.map((row) => [row.cells[0].textContent, row.cells[2].textContent])), [
      ["2", "upstream down"],
      ["1", "upstream down"],
    ]);
    assert.equal(await page.$("#resource-object"), null, "the object appears only when asked for");
    await page.click("#show-object");
    await page.waitForSelector("#resource-object");
    assert.deepEqual(JSON.parse(await text("#resource-object")), { fail: "upstream down" });
    await shot("resource");

    // A phone's width: the cluster, nodes and resources pages fit without sideways
    // scrolling of the page.
    await page.setViewport({ width: 390, height: 844 });
    const fitsPhone = async (name) => {
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `the ${name} page is ${overflow} px wider than a phone`);
    };
    await page.goto(`${env.endpoint}/console#/nodes`, { waitUntil: "networkidle0" });
    await page.waitForSelector("table.leases");
    await fitsPhone("nodes");
    await shot("nodes-phone");
    await page.goto(`${env.endpoint}/console#/clusters/${clusterId}/resources?kind=user`, { waitUntil: "networkidle0" });
    await page.waitForSelector("table.resources");
    await fitsPhone("resources");
    await shot("resources-phone");
    await page.goto(`${env.endpoint}/console#/clusters/${clusterId}`, { waitUntil: "networkidle0" });
    await page.waitForSelector("table.jobs");
    await fitsPhone("cluster");
    await shot("cluster-phone");

    // The server goes away: the next refresh says so.
    await env.server.stop();
    await page.waitForFunction(() => document.querySelector("#banner:not([hidden])")?.textContent.includes("Cannot reach the diffplane server"), { timeout: 15_000 });
    await shot("server-unreachable");

    assert.deepEqual(problems.filter((p) => !p.includes("Failed to load resource")), [], "the console logged errors");
    t.diagnostic(`browser test took ${since(start)}; screenshots in ${screenshots}`);
  });
}
