/**
 * What the status page's browser tests share: a real `bairelay serve` on a random loopback
 * address with a config of the test's own, and a headless Chromium closed after use.
 */

import assert from "node:assert/strict";
import { launchBrowser, type TestBrowser } from "./browser.ts";
import { freeTcpPort, ServeProcess, serveSetup } from "./serve_process.ts";

/** A camera's UID as its simulator sends it (its first 16 characters are configured). */
export const GARDEN_UID = "95270000ABCDEFGH0123";
export const DOOR_UID = "95270000DOORDOOR";
/** Two configured cameras: garden (its simulator registers) and door (never seen). */
export const GARDEN_AND_DOOR =
  `[[cameras]]\nname = "garden"\nuid = "${GARDEN_UID.slice(0, 16)}"\n` +
  `[[cameras]]\nname = "door"\nuid = "${DOOR_UID}"\n`;

/** One `serve` on a random loopback address with `toml` as its config file. */
export async function startServe(toml: string) {
  const { ip, ports, args, remove } = await serveSetup({ toml, prefix: "bairelay-page-" });
  const pushPort = freeTcpPort(ip);
  const serve = ServeProcess.start([...args, "--push-port", String(pushPort)]);
  await serve.ready();
  return {
    ip,
    middleman: { ip, port: ports.middleman },
    pushPort,
    url: `http://${ip}:${ports.api}/`,
    serve,
    async stop() {
      const stopped = await serve.stop();
      await remove();
      assert.equal(stopped.code, 0, serve.stderr);
    },
  };
}

/** Runs `body` with a fresh headless Chromium, closed afterwards whatever happens. */
export async function withBrowser(body: (browser: TestBrowser) => Promise<void>): Promise<void> {
  const browser = await launchBrowser();
  try {
    await body(browser);
  } finally {
    await browser.close();
  }
}
