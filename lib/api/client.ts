/** A small client for the control API (`bairelay registry` and scripts built on the library). */

import { API_SPEC } from "./config.ts";
import type { CamerasDocument } from "./routes.ts";
import type { StatusDocument } from "./status.ts";

/** The default API address, matching `[api] listen`'s default. */
export const DEFAULT_API_URL = `http://${API_SPEC.listen.default}`;

/** Why an API call failed: `unreachable` (no connection), `timeout`, or `http` (a bad status). */
export class ApiClientError extends Error {
  constructor(
    readonly kind: "unreachable" | "timeout" | "http",
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = "ApiClientError";
  }
}

/** Where and how to reach the API. */
export interface ApiClientOptions {
  /** Base URL ("http://host:port") or "host:port". */
  url: string;
  /** Bearer token, when the API has one. */
  token?: string;
  /** Give up after this long (default 5000 ms). */
  timeoutMs?: number;
}

/** Normalises "host:port" to "http://host:port" and drops a trailing slash. */
export function apiBaseUrl(url: string): string {
  const withScheme = /^[a-z]+:\/\//i.test(url) ? url : `http://${url}`;
  return withScheme.replace(/\/+$/, "");
}

/** GET /api/cameras. Throws `ApiClientError` when the API cannot be reached or refuses. */
export async function fetchCameras(options: ApiClientOptions): Promise<CamerasDocument> {
  const response = await request(options, "/api/cameras");
  return await response.json() as CamerasDocument;
}

/** GET /api/status (what `serve` runs and how it is doing). Throws `ApiClientError`. */
export async function fetchStatus(options: ApiClientOptions): Promise<StatusDocument> {
  const response = await request(options, "/api/status");
  return await response.json() as StatusDocument;
}

/** GET /healthz: resolves when `serve` answers 200. Throws `ApiClientError`. */
export async function checkHealth(options: ApiClientOptions): Promise<void> {
  await (await request(options, "/healthz")).body?.cancel();
}

async function request(options: ApiClientOptions, path: string): Promise<Response> {
  const base = apiBaseUrl(options.url);
  const timeoutMs = options.timeoutMs ?? 5000;
  const headers: Record<string, string> = { accept: "application/json" };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let response: Response;
  try {
    response = await fetch(base + path, { headers, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    if (error instanceof DOMException && error.name === "TimeoutError") {
      throw new ApiClientError(
        "timeout",
        `the control API at ${base} did not answer in ${timeoutMs} ms`,
      );
    }
    const cause = error instanceof Error ? error.message.split(": ").pop() : String(error);
    throw new ApiClientError(
      "unreachable",
      `cannot reach the control API at ${base} (${cause}); is \`bairelay serve\` running, and ` +
        "does --api match its [api] listen?",
    );
  }
  if (response.ok) return response;
  const body = await response.text();
  let detail = body.trim();
  try {
    detail = (JSON.parse(body) as { error?: string }).error ?? detail;
  } catch { /* not JSON: show the text */ }
  const hint = response.status === 401
    ? " (pass --token or set BAIRELAY_API_TOKEN to the server's [api] token)"
    : "";
  throw new ApiClientError(
    "http",
    `the control API at ${base} answered ${response.status}: ${detail}${hint}`,
    response.status,
  );
}
