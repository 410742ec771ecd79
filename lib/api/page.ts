/**
 * The status page: `GET /` answers one small page (HTML, CSS and a script module shipped
 * inside the program as text imports, so `deno compile` embeds them and nothing is fetched
 * from the internet). The page itself needs no token; the data it loads does. Strict headers:
 * the page may only load its own files and talk to this server.
 */

import html from "./page/index.html" with { type: "text" };
import css from "./page/page.css" with { type: "text" };
import script from "./page/page.js" with { type: "text" };
import type { Route } from "./http.ts";

/** Only this page's own files, no inline code, no framing, no referrer. */
const SECURITY_HEADERS = {
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; " +
    "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; " +
    "frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-cache",
};

/** The page's files: path, media type and content. */
const FILES = [
  { path: "/", type: "text/html; charset=utf-8", body: html },
  { path: "/page.css", type: "text/css; charset=utf-8", body: css },
  { path: "/page.js", type: "text/javascript; charset=utf-8", body: script },
] as const;

/** `GET /`, `/page.css` and `/page.js`: public, so a browser can load the page before the token. */
export function pageRoutes(): Route[] {
  return FILES.map((file) => ({
    method: "GET",
    path: file.path,
    public: true,
    handle: () =>
      new Response(file.body, { headers: { "content-type": file.type, ...SECURITY_HEADERS } }),
  }));
}
