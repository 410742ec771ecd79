/**
 * The control API's HTTP layer: a route table (method + URL pattern -> handler), bearer-token
 * checking, JSON replies, and the listener (header deadline, connection cap: see http_listener.ts)
 * with bind errors a user can act on.
 * Endpoints live in their own modules and are plain `Route` values added to the table.
 */

import { getLogger } from "@logtape/logtape";
import { isLoopback, plainIp } from "../net/ip.ts";
import { formatListen, type ListenAddress } from "../net/listen_address.ts";
import { ListenError, listenError } from "../net/listen_error.ts";
import { type HttpLimits, type HttpListener, listenHttp } from "./http_listener.ts";
import { errorResponse } from "./json_response.ts";

const log = getLogger(["bairelay", "api"]);

/**
 * Answers a GET of another endpoint of this API as the request being handled would be answered
 * (its headers, so its token, go along): the status page renders what its script would load.
 */
export type LocalGet = (path: string) => Promise<Response>;

/** One endpoint: `GET /api/cameras`, `POST /api/cameras/:target/wake`, ... */
export interface Route {
  method: "GET" | "POST";
  /** URLPattern pathname syntax, e.g. "/api/cameras/:target/wake". */
  path: string;
  /** Answers without a token even when the API has one (health checks). */
  public?: boolean;
  handle(
    request: Request,
    params: Record<string, string>,
    context?: RequestContext,
  ): Response | Promise<Response>;
}

/**
 * What a route is given besides the request and its path's parameters: always by the Router
 * (optional so that a route can be called by itself).
 */
export interface RequestContext {
  /** The caller's IP address (a wake from the API is attributed to it). */
  peer: string;
  /** Asks this same table for another path, with this request's headers (so its token). */
  get: LocalGet;
}

/** A compiled route table: finds the route for a request and runs it. */
export class Router {
  private readonly compiled: { route: Route; pattern: URLPattern }[];

  /** `token`: when non-null, every non-public route needs `Authorization: Bearer <token>`. */
  constructor(routes: readonly Route[], private readonly token: string | null) {
    this.compiled = routes.map((route) => ({
      route,
      pattern: new URLPattern({ pathname: route.path }),
    }));
  }

  /** Answers one request: 404 unknown path, 405 wrong method, 401 bad token, 500 on a bug. */
  async handle(request: Request, peer: string): Promise<Response> {
    const url = new URL(request.url);
    const matches = this.compiled
      .map(({ route, pattern }) => ({ route, match: pattern.exec({ pathname: url.pathname }) }))
      .filter((candidate) => candidate.match !== null);
    if (matches.length === 0) return errorResponse(404, `no such endpoint: ${url.pathname}`);
    const hit = matches.find((candidate) => candidate.route.method === request.method);
    if (hit === undefined) {
      const allow = matches.map((candidate) => candidate.route.method).join(", ");
      return errorResponse(405, `${request.method} is not allowed on ${url.pathname}`, {}, {
        allow,
      });
    }
    if (!hit.route.public && !this.authorized(request)) {
      return errorResponse(401, "missing or wrong bearer token (Authorization: Bearer TOKEN)", {}, {
        "www-authenticate": 'Bearer realm="bairelay"',
      });
    }
    const params: Record<string, string> = {};
    for (const [name, value] of Object.entries(hit.match!.pathname.groups)) {
      if (value === undefined) continue;
      try {
        params[name] = decodeURIComponent(value);
      } catch {
        // A broken %-escape (e.g. %E0%A4%A) is the client's mistake, not a server error.
        return errorResponse(400, `malformed %-encoding in the path: ${url.pathname}`);
      }
    }
    try {
      const get = (path: string) =>
        this.handle(new Request(new URL(path, url), { headers: request.headers }), peer);
      return await hit.route.handle(request, params, { peer, get });
    } catch (error) {
      log.error("API {method} {path} failed: {error}", {
        method: request.method,
        path: url.pathname,
        error: String(error),
      });
      return errorResponse(500, "internal error (see the server log)");
    }
  }

  private authorized(request: Request): boolean {
    if (this.token === null) return true;
    const header = request.headers.get("authorization") ?? "";
    const match = /^Bearer\s+(.+)$/i.exec(header);
    return match !== null && constantTimeEqual(match[1].trim(), this.token);
  }
}

/** Compares secrets without leaking where they differ through timing. */
function constantTimeEqual(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/** Options for `startHttpApi`. */
export interface HttpApiOptions {
  listen: ListenAddress;
  /** Bearer token; required unless `listen` is loopback. */
  token: string | null;
  routes: readonly Route[];
  /** Header deadline and connection cap (`[api]`'s limits). */
  limits: HttpLimits;
}

/** A running control API. */
export interface HttpApi {
  /** The address actually bound (port filled in when 0 was asked). */
  readonly address: ListenAddress;
  /**
   * Stops accepting, ends streamed answers (event streams) cleanly, finishes in-flight
   * requests (bounded to about half a second).
   */
  close(): Promise<void>;
}

/**
 * Starts the control API. Refuses a non-loopback address without a token; a bind failure
 * rejects with `ListenError` naming the address, the cause and a remedy.
 */
// deno-lint-ignore require-await -- async so that every failure reaches the caller as a rejection
export async function startHttpApi(options: HttpApiOptions): Promise<HttpApi> {
  const { listen, token } = options;
  if (!isLoopback(listen.host) && token === null) {
    const reason = "no token";
    const remedy = "set [api] token, or listen on a loopback address (127.0.0.1)";
    throw new ListenError(
      { listener: "api", ...listen },
      "NO_TOKEN",
      { reason, remedy },
      `refusing to serve the control API on ${formatListen(listen)} without a token: ${remedy}`,
    );
  }
  const router = new Router(options.routes, token);
  let server: HttpListener;
  try {
    server = listenHttp(
      listen,
      options.limits,
      (request, peer) => router.handle(request, plainIp(peer)),
    );
  } catch (error) {
    throw listenError("api", { listener: "api (HTTP, TCP)", ...listen }, error);
  }
  return { address: { host: listen.host, port: server.port }, close: () => server.close() };
}
