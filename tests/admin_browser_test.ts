/**
 * The stats page in a real browser (Debian chromium, headless, driven by playwright-core): log
 * in with Basic auth, see the servers, put one in MAINT through the page and see it marked; see a
 * change made elsewhere arrive over SSE without a reload. With HALB_SCREENSHOT=1 the page is
 * saved to docs/stats.png.
 *
 * @module
 */
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { fakeSource, testAdminConfig } from "../src/admin/_testing.ts";
import { startAdmin } from "../src/admin/server.ts";
import { createLogger, memorySink } from "../src/log/logger.ts";

const CHROMIUM = "/usr/bin/chromium";
const haveChromium = (() => {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
})();

Deno.test({
  name: `stats page in chromium: login, servers, MAINT through the page, live SSE updates${
    haveChromium ? "" : ` (ignored: ${CHROMIUM} is missing)`
  }`,
  ignore: !haveChromium,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const source = fakeSource();
    const admin = await startAdmin(
      testAdminConfig({
        auth: [{ user: "admin", password: "change-me" }],
        realm: "halb",
        allowChanges: true,
      }),
      { source, logger: createLogger({ sink: memorySink(), level: "debug" }), pushIntervalMs: 200 },
    );
    const base = `http://127.0.0.1:${(admin.addr as Deno.NetAddr).port}`;
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox"],
      timeout: 30_000,
    });
    try {
      const denied = await fetch(`${base}/stats`);
      assert.equal(denied.status, 401);
      assert.equal(denied.headers.get("www-authenticate"), 'Basic realm="halb"');
      await denied.body?.cancel();

      const context = await browser.newContext({
        httpCredentials: { username: "admin", password: "change-me" },
        viewport: { width: 1500, height: 900 },
      });
      const page = await context.newPage();
      page.setDefaultTimeout(10_000);
      const res = await page.goto(`${base}/stats`);
      assert.equal(res?.status(), 200);
      assert.equal(await page.title(), "Statistics Report for halb");
      for (const name of ["app1", "app2", "app3", "spare", "db1"]) {
        await page.locator(`tr[data-server="${name}"]`).waitFor({ state: "visible" });
      }
      assert.match(
        await page.locator('tr[data-server="app1"]').getAttribute("class") ?? "",
        /\bup\b/,
      );
      await page.locator('tr[data-instance="VI_1"]').waitFor();

      await page.locator('tr[data-server="app1"] button[data-action="maint"]').click();
      await page.waitForURL(/;st=DONE$/);
      await page.locator('tr[data-server="app1"].maint').waitFor();
      assert.match(await page.locator('tr[data-server="app1"] .status').innerText(), /MAINT/);
      assert.match(await page.locator("#banner").innerText(), /Action processed successfully/);
      assert.deepEqual(source.calls.map((c) => [c.backend, c.server, c.action]), [[
        "web",
        "app1",
        "maint",
      ]]);

      // A change made elsewhere (runtime API, health checks) arrives over SSE, without a reload.
      const url = page.url();
      assert.equal(source.serverAction("web", "app3", "drain"), null);
      await page.locator('tr[data-server="app3"].draining').waitFor();
      assert.equal(page.url(), url);
      await page.locator("#live", { hasText: "live" }).waitFor();

      if (Deno.env.get("HALB_SCREENSHOT") === "1") {
        await page.goto(`${base}/stats`);
        await page.locator('tr[data-server="app1"].maint').waitFor();
        await page.screenshot({
          path: new URL("../docs/stats.png", import.meta.url).pathname,
          fullPage: true,
        });
      }
      await context.close();
    } finally {
      await browser.close();
      await admin.stop();
    }
  },
});
