// The web console in a real browser: Debian's chromium, headless, driven by
// puppeteer-core (which never downloads a browser). Signs in (a wrong secret first),
// creates a cluster in the console, runs SDK calls against it, one of which stalls and
// is retried, and checks what the console shows of them; screenshots of every page go to
// $DIFFPLANE_SCREENSHOT_DIR (the build folder under ctest).
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";

import { compatTest, since } from "./lib/harness.mjs";
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
  compatTest("console in a browser: sign-in, cluster, a stalled and retried job, charts", { timeout: 90_000 }, async (env, t) => {
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

    // A phone's width: the cluster page fits without sideways scrolling of the page.
    await page.setViewport({ width: 390, height: 844 });
    await page.goto(`${env.endpoint}/console#/clusters/${clusterId}`, { waitUntil: "networkidle0" });
    await page.waitForSelector("table.jobs");
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow} px wider than a phone`);
    await shot("cluster-phone");

    // The server goes away: the next refresh says so.
    await env.server.stop();
    await page.waitForFunction(() => document.querySelector("#banner:not([hidden])")?.textContent.includes("Cannot reach the diffplane server"), { timeout: 15_000 });
    await shot("server-unreachable");

    assert.deepEqual(problems.filter((p) => !p.includes("Failed to load resource")), [], "the console logged errors");
    t.diagnostic(`browser test took ${since(start)}; screenshots in ${screenshots}`);
  });
}
