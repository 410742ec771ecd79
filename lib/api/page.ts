/**
 * The status page: `GET /` answers one small page (HTML, CSS and script modules shipped
 * inside the program as text imports, so `deno compile` embeds them and nothing is fetched
 * from the internet). The page itself needs no token; the data does, so `GET /` is rendered
 * with what the API tells the same request (the token travels in a header the browser's first
 * load does not send, so with a token set the first paint is the token form). Strict headers:
 * the page may only load its own files and talk to this server.
 */

import html from "./page/index.html" with { type: "text" };
import css from "./page/page.css" with { type: "text" };
import script from "./page/page.js" with { type: "text" };
import format from "./page/format.js" with { type: "text" };
import dom from "./page/dom.js" with { type: "text" };
import history from "./page/history.js" with { type: "text" };
import strip from "./page/strip.js" with { type: "text" };
import type { LocalGet, Route } from "./http.ts";
import { type PageEvent, type PageState, renderPage } from "./page_render.ts";

/** Only this page's own files, no inline code, no framing, no referrer. */
const SECURITY_HEADERS = {
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; " +
    "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; " +
    "frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-cache",
};

/** Events in the first paint: as many as the script shows. */
const EVENTS_SHOWN = 100;

/** The page's static files: path, media type and content. */
const FILES = [
  { path: "/page.css", type: "text/css; charset=utf-8", body: css },
  { path: "/page.js", type: "text/javascript; charset=utf-8", body: script },
  { path: "/format.js", type: "text/javascript; charset=utf-8", body: format },
  { path: "/dom.js", type: "text/javascript; charset=utf-8", body: dom },
  { path: "/history.js", type: "text/javascript; charset=utf-8", body: history },
  { path: "/strip.js", type: "text/javascript; charset=utf-8", body: strip },
] as const;

/**
 * `GET /` (rendered with the current state), `/page.css` and the script modules: public, so a
 * browser can load the page before the token. `now`: the clock (default Date.now).
 */
export function pageRoutes(now: () => number = Date.now): Route[] {
  return [
    {
      method: "GET",
      path: "/",
      public: true,
      handle: async (_request, _params, context) =>
        new Response(renderPage(html, await pageState(context!.get, now())), {
          headers: { "content-type": "text/html; charset=utf-8", ...SECURITY_HEADERS },
        }),
    },
    ...FILES.map((file): Route => ({
      method: "GET",
      path: file.path,
      public: true,
      handle: () =>
        new Response(file.body, { headers: { "content-type": file.type, ...SECURITY_HEADERS } }),
    })),
  ];
}

/** What the page's script would load first: the status, the cameras and the recent events. */
async function pageState(get: LocalGet, now: number): Promise<PageState> {
  let needsToken = false;
  /** The document, `absent` when the endpoint is off (404), null when it would not tell. */
  const load = async <T>(path: string, absent: T | null): Promise<T | null> => {
    const response = await get(path);
    if (response.ok) return await response.json() as T;
    await response.body?.cancel();
    if (response.status === 401) needsToken = true;
    return response.status === 404 ? absent : null;
  };
  const [status, cameras, events] = await Promise.all([
    load<PageState["status"]>("/api/status", null),
    load<{ cameras: PageState["cameras"] }>("/api/cameras", { cameras: [] }),
    load<{ events: PageEvent[] }>(`/api/events?limit=${EVENTS_SHOWN}`, { events: [] }),
  ]);
  return {
    status,
    cameras: cameras?.cameras ?? null,
    events: events?.events ?? null,
    needsToken,
    now,
  };
}
