/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The status page in a real browser (Debian's Chromium, headless, via puppeteer-core) against a
 * real `bairelay serve` and simulated cameras: the camera table (registered and never seen),
 * the Wake button reaching the camera, motion showing live from a push, the token prompt,
 * hostile UIDs shown as text, the page as the server sends it (read with JavaScript off), and
 * 1,024 cameras. Saves the README's screenshots into a temporary directory, or into
 * docs/screenshots/ with UPDATE_SCREENSHOTS=1.
 */

import assert from "node:assert/strict";
import { NO_CHROMIUM, type Page, screenshotDir } from "./support/browser.ts";
import { CameraSim } from "./support/camera_sim.ts";
import { sendPush } from "./support/push_client.ts";
import {
  DOOR_UID,
  GARDEN_AND_DOOR,
  GARDEN_UID,
  startServe,
  withBrowser,
} from "./support/page_serve.ts";
import { randomLoopback } from "./support/serve_process.ts";

const HOSTILE_UID = `<img src=x onerror="window.pwned=1">'"&amp;<script>x</script>`;
const ignore = NO_CHROMIUM !== false;
/** A test's name, with why it is skipped when Chromium is missing. */
const named = (name: string) => ignore ? `${name} (skipped: ${NO_CHROMIUM})` : name;

/** The texts of one camera row (found by its UID in the page, never by a CSS selector). */
function row(page: Page, uid: string) {
  return page.evaluate((uid) => {
    const tr = [...document.querySelectorAll<HTMLTableRowElement>("#cameras tbody tr")]
      .find((candidate) => candidate.dataset.uid === uid);
    if (!tr) return null;
    const text = (selector: string) => tr.querySelector(selector)?.textContent ?? "";
    return {
      name: text(".name"),
      uid: text(".uid"),
      cells: [...tr.cells].map((cell) => cell.textContent ?? ""),
      state: text("td:nth-child(3) .badge"),
      motion: text("td:nth-child(5) .badge"),
      result: text(".result"),
      elements: tr.querySelectorAll("img, script").length,
    };
  }, uid);
}

/** What `waitForRow` waits for: the row's text (or one element's) holding or equal to a text. */
interface RowCheck {
  selector?: string;
  includes?: string;
  equals?: string;
}

/** Waits until the page's row for `uid` exists and passes `check` (polling in the page). */
async function waitForRow(
  page: Page,
  uid: string,
  check: RowCheck = {},
  timeout = 10_000,
): Promise<void> {
  await page.waitForFunction(
    (uid, check) => {
      const tr = [...document.querySelectorAll<HTMLTableRowElement>("#cameras tbody tr")]
        .find((candidate) => candidate.dataset.uid === uid);
      if (tr === undefined) return false;
      const text = (check.selector ? tr.querySelector(check.selector) : tr)?.textContent ?? "";
      return (check.includes === undefined || text.includes(check.includes)) &&
        (check.equals === undefined || text === check.equals);
    },
    { timeout, polling: 20 },
    uid,
    check,
  );
}

async function clickWake(page: Page, uid: string): Promise<void> {
  const button = await page.evaluateHandle((uid) => {
    const tr = [...document.querySelectorAll<HTMLTableRowElement>("#cameras tbody tr")]
      .find((candidate) => candidate.dataset.uid === uid);
    return tr!.querySelector("button")!;
  }, uid);
  await button.click();
}

Deno.test({
  name: named(
    "page: cameras registered and never seen, Wake reaches the camera, motion shows live",
  ),
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const setup = await startServe(
      GARDEN_AND_DOOR +
        `[wake_server]\nburst_count = 2\nburst_interval_ms = 10\nmax_wakes_per_hour = 1\n` +
        `[push_listener]\nmotion_hold_secs = 60\nwake_on_motion = false\n`,
    );
    const cameraIp = randomLoopback();
    const camera = await CameraSim.start({
      uid: GARDEN_UID,
      ip: cameraIp,
      middleman: setup.middleman,
    });
    let hostile: CameraSim | undefined;
    try {
      await camera.boot();
      await withBrowser(async ({ browser }) => {
        const page = await browser.newPage();
        const problems: string[] = [];
        page.on("pageerror", (error) => problems.push(String(error)));
        page.on("console", (message) => {
          // The browser logs each non-2xx answer (the 404 of a wake refused is expected).
          const text = message.text();
          if (message.type() === "error" && !text.startsWith("Failed to load resource")) {
            problems.push(text);
          }
        });
        await page.setViewport({ width: 1280, height: 820 });
        await page.goto(setup.url);
        await waitForRow(page, GARDEN_UID, { includes: "fresh" });
        await waitForRow(page, DOOR_UID, { includes: "never seen" });
        const garden = (await row(page, GARDEN_UID))!;
        assert.equal(garden.name, "garden");
        assert.match(garden.cells[1], new RegExp(`^${cameraIp.replaceAll(".", "\\.")}:\\d+$`));
        assert.match(garden.cells[3], /^\d+ s ago$/);
        assert.match(garden.cells[5], /^0 \/ 1/);
        assert.equal((await row(page, DOOR_UID))!.cells[1], "—");
        const header = await page.$eval("header", (h) => h.textContent ?? "");
        assert.match(header, /v\d+\.\d+\.\d+/);
        const listeners = await page.$eval("#listeners", (l) => l.textContent ?? "");
        assert.match(listeners, /push.*up/);
        assert.match(listeners, /mqtt.*off/);
        await page.waitForFunction(() => document.getElementById("live")?.dataset.live === "on");

        // Wake: the simulated camera receives R2D_C; the row says what the API answered.
        await clickWake(page, GARDEN_UID);
        assert.ok((await camera.waitForWakes(1)).length >= 1, "R2D_C reached the camera");
        await waitForRow(
          page,
          GARDEN_UID,
          { selector: ".result", equals: "Wake started" },
        );
        await waitForRow(page, GARDEN_UID, { selector: "td:nth-child(6)", includes: "1 / 1" });
        await clickWake(page, GARDEN_UID);
        await waitForRow(page, GARDEN_UID, {
          selector: ".result",
          equals: "Refused: budget 1/1 used",
        });
        await clickWake(page, DOOR_UID);
        await waitForRow(
          page,
          DOOR_UID,
          { selector: ".result", equals: "Not registered" },
        );

        // Motion: a push from the camera's address shows within a second, without a reload.
        await page.evaluate(() => (window as unknown as { marker: number }).marker = 1);
        await sendPush({ from: cameraIp, host: setup.ip, port: setup.pushPort });
        await waitForRow(
          page,
          GARDEN_UID,
          { selector: "td:nth-child(5) .badge", equals: "motion" },
          1000,
        );
        assert.equal(
          await page.evaluate(() => (window as unknown as { marker: number }).marker),
          1,
        );

        // Screenshots for the README: light, dark, phone width.
        const screenshots = await screenshotDir();
        await page.screenshot({ path: `${screenshots}status-page-light.png` });
        await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: "dark" }]);
        await page.screenshot({ path: `${screenshots}status-page-dark.png` });
        await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: "light" }]);
        // A mobile viewport reloads the page: wait for the rows again each time.
        await page.setViewport({ width: 390, height: 844, isMobile: true, deviceScaleFactor: 2 });
        await waitForRow(page, GARDEN_UID, {
          selector: "td:nth-child(5) .badge",
          equals: "motion",
        });
        await page.screenshot({ path: `${screenshots}status-page-phone.png`, fullPage: true });
        await page.setViewport({ width: 1280, height: 820 });
        await waitForRow(page, GARDEN_UID, { includes: "fresh" });

        const events = await page.$eval("#events", (list) => list.textContent ?? "");
        const keys = await page.$$eval("#events li", (items) => items.map((i) => i.dataset.key));
        assert.equal(
          new Set(keys).size,
          keys.length,
          "the events the server sent are not repeated",
        );
        assert.match(events, /Motion started/);
        assert.match(events, /Registered from/);
        assert.match(events, /Wake \(api\): Wake started/);
        assert.match(events, /Wake \(api\): Refused \(budget\)/);

        // A hostile UID from the wire is shown as text, and its Wake button still works.
        hostile = await CameraSim.start({
          uid: HOSTILE_UID,
          ip: randomLoopback(),
          middleman: setup.middleman,
        });
        await hostile.boot();
        await waitForRow(page, HOSTILE_UID);
        const shown = (await row(page, HOSTILE_UID))!;
        assert.equal(shown.uid, HOSTILE_UID);
        assert.equal(shown.name, "(unnamed)");
        assert.equal(shown.elements, 0, "no element was made from the UID");
        const label = await page.evaluate(
          (uid) =>
            [...document.querySelectorAll<HTMLTableRowElement>("#cameras tbody tr")]
              .find((tr) => tr.dataset.uid === uid)!.querySelector("button")!
              .getAttribute("aria-label"),
          HOSTILE_UID,
        );
        assert.equal(label, `Wake ${HOSTILE_UID}`, "each Wake button names its camera");
        await clickWake(page, HOSTILE_UID);
        assert.ok((await hostile.waitForWakes(1)).length >= 1);
        const events2 = await page.$$eval(
          "#events li .who",
          (items) => items.map((i) => i.textContent),
        );
        assert.ok(events2.includes(HOSTILE_UID));
        assert.equal(await page.evaluate(() => "pwned" in window), false);
        assert.equal(await page.$$eval("#events img, #events script", (found) => found.length), 0);
        assert.deepEqual(problems, []);
      });
    } finally {
      await camera.close();
      await hostile?.close();
      await setup.stop();
    }
  },
});

Deno.test({
  name: named(
    "page: the server sends it filled in, readable without JavaScript, hostile UIDs as text",
  ),
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const setup = await startServe(GARDEN_AND_DOOR);
    const cameraIp = randomLoopback();
    const cameras = [
      await CameraSim.start({ uid: GARDEN_UID, ip: cameraIp, middleman: setup.middleman }),
      await CameraSim.start({ uid: HOSTILE_UID, ip: randomLoopback(), middleman: setup.middleman }),
    ];
    try {
      for (const camera of cameras) await camera.boot();
      const html = await (await fetch(setup.url)).text();
      assert.ok(!html.includes("<img"), "no tag from the wire reaches the HTML");
      await withBrowser(async ({ browser }) => {
        const page = await browser.newPage();
        await page.setJavaScriptEnabled(false);
        await page.goto(setup.url);
        const garden = (await row(page, GARDEN_UID))!;
        assert.equal(garden.name, "garden");
        assert.equal(garden.state, "fresh");
        assert.match(garden.cells[1], new RegExp(`^${cameraIp.replaceAll(".", "\\.")}:\\d+$`));
        assert.match(garden.cells[3], /^\d+ s ago$/);
        assert.equal((await row(page, DOOR_UID))!.state, "never seen");
        const hostile = (await row(page, HOSTILE_UID))!;
        assert.equal(hostile.uid, HOSTILE_UID);
        assert.equal(hostile.name, "(unnamed)");
        assert.equal(hostile.elements, 0, "no element was made from the UID");
        const shown = await page.evaluate(() => ({
          version: document.getElementById("version")!.textContent,
          uptime: document.getElementById("uptime")!.textContent,
          live: document.getElementById("live")!.textContent,
          listeners: document.getElementById("listeners")!.textContent,
          count: document.getElementById("camera-count")!.textContent,
          who: [...document.querySelectorAll("#events li .who")].map((item) => item.textContent),
          what: document.getElementById("events")!.textContent,
          nothingYet: document.getElementById("no-events")!.hidden,
          tokenPanel: document.getElementById("token-panel")!.hidden,
          images: document.querySelectorAll("img, #events script, tbody script").length,
        }));
        assert.match(shown.version!, /^v\d+\.\d+\.\d+/);
        assert.match(shown.uptime!, /^\d+ s$/);
        assert.match(shown.live!, /^snapshot of \d\d:\d\d:\d\d UTC$/);
        assert.match(shown.listeners!, /api.*up/);
        assert.equal(shown.count, "(3)");
        assert.ok(shown.who.includes(HOSTILE_UID), `events name the hostile UID: ${shown.who}`);
        assert.ok(shown.who.includes("garden"));
        assert.match(shown.what!, /Registered from/);
        assert.equal(shown.nothingYet, true, '"Nothing yet." is hidden: there are events');
        assert.equal(shown.tokenPanel, true);
        assert.equal(shown.images, 0);
        assert.equal(await page.evaluate(() => "pwned" in window), false);
      });
    } finally {
      for (const camera of cameras) await camera.close();
      await setup.stop();
    }
  },
});

Deno.test({
  name: named("page: with a token it asks once, keeps it for the tab, and never puts it in a URL"),
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const token = "page-test-token-1234";
    const setup = await startServe(
      `[api]\ntoken = "${token}"\n[[cameras]]\nname = "door"\nuid = "${DOOR_UID}"\n`,
    );
    try {
      const bare = await fetch(`${setup.url}api/cameras`);
      assert.equal(bare.status, 401, "data without the token is refused");
      await bare.body?.cancel();
      await withBrowser(async ({ browser }) => {
        const page = await browser.newPage();
        const requests: { url: string; authorization?: string }[] = [];
        page.on("request", (request) => {
          requests.push({ url: request.url(), authorization: request.headers().authorization });
        });
        await page.goto(setup.url);
        await page.waitForSelector("#token-panel:not([hidden])");
        assert.equal(await page.$$eval("#cameras tbody tr", (rows) => rows.length), 0);
        await page.type("#token-input", "wrong");
        await page.click("#token-form button");
        await page.waitForFunction(() =>
          document.getElementById("token-error")?.textContent?.includes("refused")
        );
        await page.type("#token-input", token);
        await page.click("#token-form button");
        await waitForRow(page, DOOR_UID, { includes: "never seen" });
        assert.equal(
          await page.$eval("#token-panel", (panel) => (panel as HTMLElement).hidden),
          true,
        );
        await page.waitForFunction(() => document.getElementById("live")?.dataset.live === "on");

        await page.reload();
        await waitForRow(page, DOOR_UID);
        assert.equal(
          await page.$eval("#token-panel", (panel) => (panel as HTMLElement).hidden),
          true,
          "asked once",
        );

        assert.ok(requests.length > 0);
        for (const request of requests) assert.ok(!request.url.includes(token), request.url);
        const stream = requests.find((request) => request.url.endsWith("/api/events/stream"));
        assert.equal(stream?.authorization, `Bearer ${token}`);
      });
    } finally {
      await setup.stop();
    }
  },
});

Deno.test({
  name: named("page: 1,024 cameras render, stay responsive, and refreshes update rows in place"),
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const cameras = Array.from(
      { length: 1024 },
      (_, i) =>
        `[[cameras]]\nname = "cam-${i}"\nuid = "95270000CAM${String(i).padStart(5, "0")}"\n`,
    );
    const setup = await startServe(cameras.join(""));
    try {
      await withBrowser(async ({ browser }) => {
        const page = await browser.newPage();
        await page.goto(setup.url);
        await page.waitForFunction(
          () => document.querySelectorAll("#cameras tbody tr").length === 1024,
          { timeout: 20_000 },
        );
        await page.evaluate(() => {
          const first = document.querySelector<HTMLElement>("#cameras tbody tr")!;
          first.dataset.probe = "kept";
        });
        // The next poll of the camera list must reuse the rows, not rebuild the table.
        await page.waitForResponse((response) => response.url().endsWith("/api/cameras"), {
          timeout: 15_000,
        });
        await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 100)));
        const after = await page.evaluate(() => ({
          rows: document.querySelectorAll("#cameras tbody tr").length,
          probe: document.querySelector<HTMLElement>("#cameras tbody tr")!.dataset.probe,
          count: document.getElementById("camera-count")!.textContent,
        }));
        assert.deepEqual(after, { rows: 1024, probe: "kept", count: "(1024)" });
      });
    } finally {
      await setup.stop();
    }
  },
});
