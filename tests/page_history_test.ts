/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The status page's 24-hour strips in a real browser (Debian's Chromium via puppeteer-core)
 * against a real `bairelay serve`: the history documents (and the history fields of
 * `/api/cameras`) are answered by request interception with fixtures of the documented shape,
 * so the page is tested against the API's contract whichever serve it runs on. Checks the band,
 * the marks and their detail (hover title, tap, arrow keys), the legend of wakes today by
 * requester, the drain warning's words, a hostile requester label shown as text, a refetch after
 * a wake, a server without a history (no strip, no request), and 1,024 cameras (only the strips
 * on screen are fetched). Saves screenshots (light, dark, phone) into a temporary directory.
 */

import assert from "node:assert/strict";
import type { HTTPRequest } from "puppeteer-core";
import { NO_CHROMIUM, type Page, screenshotDir } from "./support/browser.ts";
import { CameraSim } from "./support/camera_sim.ts";
import {
  DOOR_UID,
  GARDEN_AND_DOOR,
  GARDEN_UID,
  startServe,
  withBrowser,
} from "./support/page_serve.ts";
import { randomLoopback } from "./support/serve_process.ts";

const HOSTILE = `<img src=x onerror="window.pwned=1">'"&amp;<b>x</b>`;
const HOUR_MS = 3_600_000;
const ignore = NO_CHROMIUM !== false;
const named = (name: string) => ignore ? `${name} (skipped: ${NO_CHROMIUM})` : name;

type Wake = { at: number; requester: string; kind: string; result: string; count: number };

/** A history document as `GET /api/cameras/{camera}/history?since=24h` answers it. */
function historyDocument(uid: string, name: string, now: number, busy: boolean) {
  const iso = (ms: number) => new Date(ms).toISOString();
  const wakes: Wake[] = [];
  if (busy) {
    for (let k = 1; k <= 30; k++) {
      wakes.push({
        at: now - k * 20 * 60_000,
        requester: "home-assistant",
        kind: "client",
        result: "started",
        count: 1,
      });
    }
    wakes.push({
      at: now - 5 * HOUR_MS,
      requester: "motion",
      kind: "motion",
      result: "started",
      count: 1,
    });
    wakes.push({
      at: now - 90 * 60_000,
      requester: HOSTILE,
      kind: "api",
      result: "started",
      count: 1,
    });
    wakes.push({
      at: now - 80 * 60_000,
      requester: HOSTILE,
      kind: "api",
      result: "refused",
      count: 3,
    });
  }
  const offline = { from: now - 20 * HOUR_MS, to: now - 19.5 * HOUR_MS };
  const events = busy
    ? [
      { type: "registered", at: iso(now - 23 * HOUR_MS), address: "192.0.2.7:5000" },
      { type: "offline", from: iso(offline.from), to: iso(offline.to) },
      { type: "motion", at: iso(now - 5 * HOUR_MS - 5_000) },
      { type: "motion", at: iso(now - 60 * 60_000) },
      ...wakes.map((wake) => ({
        type: "wake",
        at: iso(wake.at),
        requester: wake.requester,
        kind: wake.kind,
        result: wake.result,
        acknowledged: wake.result === "started",
        count: wake.count,
      })),
    ]
    : [];
  const hours = [];
  for (
    let hour = Math.floor((now - 24 * HOUR_MS) / HOUR_MS) * HOUR_MS;
    hour <= now;
    hour += HOUR_MS
  ) {
    if (!busy) break;
    const started = wakes.filter((w) =>
      w.result === "started" && Math.floor(w.at / HOUR_MS) * HOUR_MS === hour
    );
    const byRequester: Record<string, number> = {};
    for (const wake of started) {
      byRequester[wake.requester] = (byRequester[wake.requester] ?? 0) + 1;
    }
    hours.push({
      hour: iso(hour),
      wakes: started.length,
      refused: 0,
      motion: 0,
      heartbeats: 300,
      by_requester: byRequester,
    });
  }
  return {
    uid,
    name,
    since: iso(now - 24 * HOUR_MS),
    now: iso(now),
    retention_days: 7,
    cadence_ms: busy ? 12_000 : null,
    events,
    hours,
    requesters: [],
    drain: [],
  };
}

/** The history fields `/api/cameras` adds per camera (drain: who is over the threshold). */
const DRAINS: Record<string, { requester: string; wakes: number; threshold: number }[]> = {
  [GARDEN_UID]: [{ requester: "home-assistant", wakes: 30, threshold: 24 }],
  [DOOR_UID]: [{ requester: HOSTILE, wakes: 25, threshold: 24 }],
};

/**
 * Answers the page's history requests with fixtures and adds the history fields to the real
 * `/api/cameras` (or, with `withHistory` false, removes them: a serve that keeps no history).
 * Returns the history requests seen, by UID.
 */
async function interceptHistory(page: Page, withHistory = true): Promise<string[]> {
  const asked: string[] = [];
  await page.setRequestInterception(true);
  page.on("request", (request: HTTPRequest) => void answer(request));
  async function answer(request: HTTPRequest) {
    const url = new URL(request.url());
    const history = /^\/api\/cameras\/([^/]+)\/history$/.exec(url.pathname);
    if (history) {
      const uid = decodeURIComponent(history[1]);
      asked.push(uid);
      if (!withHistory) {
        return request.respond({ status: 404, contentType: "application/json", body: "{}" });
      }
      const body = historyDocument(uid, uid, Date.now(), uid === GARDEN_UID);
      return request.respond({
        status: 200,
        contentType: "application/json",
        body: JSON.stringify(body),
      });
    }
    if (url.pathname === "/api/cameras") {
      const real = await (await fetch(url)).json();
      for (const camera of real.cameras) {
        for (const field of ["wakes_today", "motion_today", "last_woken_by", "drain"]) {
          delete camera[field];
        }
        if (withHistory) {
          Object.assign(camera, {
            wakes_today: 0,
            motion_today: 0,
            last_woken_by: null,
            drain: DRAINS[camera.uid] ?? [],
          });
        }
      }
      return request.respond({
        status: 200,
        contentType: "application/json",
        body: JSON.stringify(real),
      });
    }
    return request.continue();
  }
  return asked;
}

/** What a camera's history cell shows. */
function historyCell(page: Page, uid: string) {
  return page.evaluate((uid) => {
    const tr = [...document.querySelectorAll<HTMLTableRowElement>("#cameras tbody tr")]
      .find((candidate) => candidate.dataset.uid === uid)!;
    const cell = tr.querySelector("td.history")!;
    return {
      draining: tr.classList.contains("draining"),
      drains: [...cell.querySelectorAll(".drain")].map((p) => p.textContent),
      online: cell.querySelectorAll("rect.band-online").length,
      offline: cell.querySelectorAll("rect.band-offline").length,
      marks: [...cell.querySelectorAll(".mark")].map((mark) => mark.textContent ?? ""),
      wakeLines: cell.querySelectorAll("line.wake").length,
      motion: cell.querySelectorAll("circle.motion-mark").length,
      today: [...cell.querySelectorAll(".today li")].map((li) => ({
        who: li.querySelector(".who")!.textContent,
        count: li.querySelector(".count")!.textContent,
        colour: li.querySelector(".swatch")!.className,
      })),
      todayText: cell.querySelector(".today")?.textContent ?? "",
      note: cell.querySelector(".strip-note")?.textContent ?? "",
      elements: cell.querySelectorAll("img, b, script").length,
    };
  }, uid);
}

function waitForStrip(page: Page, uid: string, timeout = 10_000) {
  return page.waitForFunction(
    (uid) =>
      [...document.querySelectorAll<HTMLTableRowElement>("#cameras tbody tr")]
        .find((tr) => tr.dataset.uid === uid)?.querySelector("svg.strip") != null,
    { timeout, polling: 50 },
    uid,
  );
}

/** Wakes started today (UTC, the browser's emulated zone) per requester in the fixture. */
function expectedToday(now: number): Map<string, number> {
  const midnight = new Date(now).setUTCHours(0, 0, 0, 0);
  const counts = new Map<string, number>();
  for (const hour of historyDocument(GARDEN_UID, "garden", now, true).hours) {
    if (Date.parse(hour.hour) < midnight) continue;
    for (const [who, n] of Object.entries(hour.by_requester)) {
      counts.set(who, (counts.get(who) ?? 0) + n);
    }
  }
  return counts;
}

Deno.test({
  name: named(
    "page history: the strip's band, marks, legend and drain warning, hostile labels as text",
  ),
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const setup = await startServe(GARDEN_AND_DOOR);
    const camera = await CameraSim.start({
      uid: GARDEN_UID,
      ip: randomLoopback(),
      middleman: setup.middleman,
    });
    try {
      await camera.boot();
      await withBrowser(async ({ browser }) => {
        const page = await browser.newPage();
        const problems: string[] = [];
        page.on("pageerror", (error) => problems.push(String(error)));
        await page.emulateTimezone("UTC");
        await page.setViewport({ width: 1280, height: 820 });
        const asked = await interceptHistory(page);
        await page.goto(setup.url);
        await waitForStrip(page, GARDEN_UID);
        await waitForStrip(page, DOOR_UID);

        const garden = await historyCell(page, GARDEN_UID);
        assert.equal(garden.draining, true);
        assert.deepEqual(garden.drains, [
          "Battery drain: home-assistant woke it 30 times in 24 h (more than 24)",
        ]);
        assert.ok(garden.online >= 23, `hours with heartbeats: ${garden.online}`);
        assert.equal(garden.offline, 1);
        assert.equal(garden.wakeLines, 33);
        assert.equal(garden.motion, 2);
        assert.ok(
          garden.marks.some((m) => /^\d\d:\d\d registered from 192\.0\.2\.7:5000$/.test(m)),
          garden.marks.join("\n"),
        );
        assert.ok(garden.marks.some((m) => /^Offline \d\d:\d\d–\d\d:\d\d \(30 min\)$/.test(m)));
        assert.ok(garden.marks.some((m) => /^\d\d:\d\d motion$/.test(m)));
        assert.ok(
          garden.marks.some((m) =>
            /wake by home-assistant \(client\): started, the camera answered$/.test(m)
          ),
        );
        assert.ok(
          garden.marks.some((m) =>
            m.endsWith(`wake by ${HOSTILE} (api): refused by the budget (3 times)`)
          ),
        );
        assert.equal(garden.note, "Heartbeat every 12 s, offline once in 24 h");
        const today = expectedToday(Date.now());
        for (const requester of ["home-assistant", "motion", HOSTILE]) {
          const item = garden.today.find((i) => i.who === requester);
          assert.ok(item, `${requester} is in the legend`);
          assert.equal(item.count, String(today.get(requester) ?? 0), requester);
          assert.match(item.colour, /^swatch req-\d$/);
        }
        assert.equal(
          new Set(garden.today.map((i) => i.colour)).size,
          garden.today.length,
          "a colour each",
        );
        assert.equal(garden.elements, 0, "no element was made from a label");

        const door = await historyCell(page, DOOR_UID);
        assert.deepEqual(door.drains, [
          `Battery drain: ${HOSTILE} woke it 25 times in 24 h (more than 24)`,
        ]);
        assert.equal(door.online, 0);
        assert.equal(door.marks.length, 0);
        assert.equal(door.todayText, "Wakes today by requester: none");
        assert.equal(door.note, "Heartbeat cadence not known yet, never offline in 24 h");
        assert.equal(await page.$eval("#strip-key", (key) => (key as HTMLElement).hidden), false);
        assert.equal(await page.evaluate(() => "pwned" in window), false);
        assert.equal(await page.$$eval("tbody img, tbody b", (found) => found.length), 0);

        // The detail: each mark has its title (hover); a tap or the keyboard shows it as text.
        const marks = await page.$$(`tr[data-uid="${GARDEN_UID}"] .mark`);
        const last = marks.at(-1)!;
        assert.equal(await last.evaluate((m) => m.getAttribute("tabindex")), "0", "one tab stop");
        // A tap in the middle of the first mark (its hit line is a few px wide, its box 0 wide).
        const box = (await (await marks[0].$("line.hit"))!.boundingBox())!;
        await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
        const firstTitle = await marks[0].evaluate((m) => m.textContent);
        assert.equal(
          (await historyCell(page, GARDEN_UID)).note,
          firstTitle,
          "a tap shows the detail",
        );
        await page.keyboard.press("End");
        await page.keyboard.press("ArrowLeft");
        const focused = await page.evaluate(() => document.activeElement?.textContent);
        assert.equal(focused, await marks.at(-2)!.evaluate((m) => m.textContent));
        assert.equal((await historyCell(page, GARDEN_UID)).note, focused);

        const screenshots = await screenshotDir();
        await page.screenshot({ path: `${screenshots}status-page-history-light.png` });
        await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: "dark" }]);
        await page.screenshot({ path: `${screenshots}status-page-history-dark.png` });
        await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: "light" }]);

        // A wake on the live stream: the camera's strip is fetched again soon.
        const before = asked.filter((uid) => uid === GARDEN_UID).length;
        await page.evaluate((uid) => {
          [...document.querySelectorAll<HTMLTableRowElement>("#cameras tbody tr")]
            .find((tr) => tr.dataset.uid === uid)!.querySelector("button")!.click();
        }, GARDEN_UID);
        await camera.waitForWakes(1);
        const deadline = Date.now() + 6_000;
        while (
          asked.filter((uid) => uid === GARDEN_UID).length === before && Date.now() < deadline
        ) {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        assert.ok(
          asked.filter((uid) => uid === GARDEN_UID).length > before,
          "fetched after the wake",
        );

        await page.setViewport({ width: 390, height: 844, isMobile: true, deviceScaleFactor: 2 });
        await waitForStrip(page, GARDEN_UID);
        await page.screenshot({
          path: `${screenshots}status-page-history-phone.png`,
          fullPage: true,
        });
        assert.deepEqual(problems, []);
      });
    } finally {
      await camera.close();
      await setup.stop();
    }
  },
});

Deno.test({
  name: named("page history: a serve without a history gets no strip, no request and no error"),
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const setup = await startServe(GARDEN_AND_DOOR);
    try {
      await withBrowser(async ({ browser }) => {
        const page = await browser.newPage();
        const problems: string[] = [];
        page.on("pageerror", (error) => problems.push(String(error)));
        page.on("console", (message) => {
          if (message.type() === "error") problems.push(message.text());
        });
        const asked = await interceptHistory(page, false);
        await page.goto(setup.url);
        await page.waitForFunction(() => document.getElementById("live")?.dataset.live === "on");
        await page.waitForResponse((response) => response.url().endsWith("/api/cameras"));
        await new Promise((resolve) => setTimeout(resolve, 500));
        assert.deepEqual(asked, []);
        assert.equal(await page.$$eval("svg.strip, .drain", (found) => found.length), 0);
        assert.equal(await page.$eval("#strip-key", (key) => (key as HTMLElement).hidden), true);
        assert.deepEqual(problems, []);
      });
    } finally {
      await setup.stop();
    }
  },
});

Deno.test({
  name: named("page history: with 1,024 cameras only the strips on screen are fetched"),
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const uids = Array.from({ length: 1024 }, (_, i) => `95270000CAM${String(i).padStart(5, "0")}`);
    const setup = await startServe(
      uids.map((uid, i) => `[[cameras]]\nname = "cam-${i}"\nuid = "${uid}"\n`).join(""),
    );
    try {
      await withBrowser(async ({ browser }) => {
        const page = await browser.newPage();
        await page.setViewport({ width: 1280, height: 820 });
        const asked = await interceptHistory(page);
        await page.goto(setup.url);
        await waitForStrip(page, uids[0], 20_000);
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        assert.ok(
          asked.length > 0 && asked.length <= 40,
          `history requests at load: ${asked.length}`,
        );
        assert.ok(!asked.includes(uids[1023]));
        await page.evaluate((uid) => {
          [...document.querySelectorAll<HTMLTableRowElement>("#cameras tbody tr")]
            .find((tr) => tr.dataset.uid === uid)!.scrollIntoView();
        }, uids[1023]);
        await waitForStrip(page, uids[1023]);
        assert.ok(asked.length <= 80, `history requests after scrolling: ${asked.length}`);
      });
    } finally {
      await setup.stop();
    }
  },
});
