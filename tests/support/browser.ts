/**
 * Debian's Chromium, headless, driven by puppeteer-core for the status page tests: no browser
 * download, a fresh profile per launch (removed on close), and every background service that
 * would reach past loopback turned off.
 */

import puppeteer, { type Browser, type Page } from "puppeteer-core";

export type { Page };

/** Where Debian's chromium package puts the browser. */
export const CHROMIUM = "/usr/bin/chromium";

/** Why the browser tests are skipped, or false when Chromium is installed. */
export const NO_CHROMIUM: string | false = (() => {
  try {
    Deno.statSync(CHROMIUM);
    return false;
  } catch {
    return `${CHROMIUM} is missing (apt-get install chromium; scripts/test installs it)`;
  }
})();

/** A running headless Chromium with its own throw-away profile. */
export interface TestBrowser {
  browser: Browser;
  close(): Promise<void>;
}

/** Starts headless Chromium with a fresh --user-data-dir. */
export async function launchBrowser(): Promise<TestBrowser> {
  const profile = await Deno.makeTempDir({ prefix: "bairelay-chromium-" });
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      `--user-data-dir=${profile}`,
    ],
  });
  return {
    browser,
    async close() {
      await browser.close().catch(() => {});
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    },
  };
}
