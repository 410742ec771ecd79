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

/** Where the README's screenshots live in the repository. */
const README_SCREENSHOTS = new URL("../../docs/screenshots/", import.meta.url).pathname;

/**
 * The directory a test saves its screenshots into: a fresh temporary one, so running the tests
 * never rewrites tracked files, or the README's docs/screenshots/ when UPDATE_SCREENSHOTS=1 asks
 * to refresh them. Says where they go on stderr.
 */
export async function screenshotDir(): Promise<string> {
  const dir = Deno.env.get("UPDATE_SCREENSHOTS") === "1"
    ? README_SCREENSHOTS
    : await Deno.makeTempDir({ prefix: "bairelay-screenshots-" }) + "/";
  await Deno.mkdir(dir, { recursive: true });
  console.error(`screenshots: ${dir}`);
  return dir;
}

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
