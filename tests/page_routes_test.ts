/**
 * The status page's files without a browser: served without the token (the data still needs
 * it), with strict headers, and part of main.ts's module graph (which is what `deno compile`
 * embeds, so the single executable has the page with no files beside it).
 */

import assert from "node:assert/strict";
import { startHttpApi } from "../lib/api/http.ts";
import { DEFAULT_API_LIMITS } from "../lib/api/config.ts";
import { pageRoutes } from "../lib/api/page.ts";
import { healthRoute } from "../lib/api/routes.ts";

const MAIN = new URL("../main.ts", import.meta.url);
const PAGE_FILES = [
  "index.html",
  "page.css",
  "page.js",
  "format.js",
  "dom.js",
  "history.js",
  "strip.js",
];

Deno.test("the page's files need no token, the data does; strict headers", async () => {
  const api = await startHttpApi({
    listen: { host: "127.0.0.1", port: 0 },
    token: "t0ken",
    routes: [healthRoute(), ...pageRoutes(), {
      method: "GET",
      path: "/api/cameras",
      handle: () => new Response("{}"),
    }],
    limits: DEFAULT_API_LIMITS,
  });
  try {
    const base = `http://127.0.0.1:${api.address.port}`;
    for (
      const [path, type] of [
        ["/", /^text\/html/],
        ["/page.css", /^text\/css/],
        ["/page.js", /^text\/javascript/],
        ["/format.js", /^text\/javascript/],
        ["/dom.js", /^text\/javascript/],
        ["/history.js", /^text\/javascript/],
        ["/strip.js", /^text\/javascript/],
      ] as const
    ) {
      const response = await fetch(base + path);
      assert.equal(response.status, 200, path);
      assert.match(response.headers.get("content-type")!, type);
      assert.match(response.headers.get("content-security-policy")!, /script-src 'self'/);
      assert.equal(response.headers.get("x-content-type-options"), "nosniff");
      const text = await response.text();
      assert.ok(text.length > 100, path);
      // The SVG namespace is a name the strip's elements are made in, never fetched.
      assert.doesNotMatch(
        text,
        /https?:\/\/(?!127\.|www\.w3\.org\/2000\/svg")/,
        `${path} fetches nothing from outside`,
      );
    }
    const data = await fetch(`${base}/api/cameras`);
    assert.equal(data.status, 401);
    await data.body?.cancel();
  } finally {
    await api.close();
  }
});

Deno.test("the page's files are in main.ts's module graph, so deno compile embeds them", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", MAIN.pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  const graph = JSON.parse(new TextDecoder().decode(output.stdout));
  const specifiers = new Set(
    (graph.modules as { specifier: string }[]).map((module) => module.specifier),
  );
  for (const file of PAGE_FILES) {
    const url = new URL(`../lib/api/page/${file}`, import.meta.url).href;
    assert.ok(specifiers.has(url), `${url} is in the graph`);
  }
});
