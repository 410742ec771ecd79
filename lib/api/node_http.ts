/**
 * The control API's HTTP/1.1 listener, with the limits a LAN-facing server needs: a deadline
 * for reading each request's header (slow or half-sent headers get 408 and the connection is
 * closed), a cap on open connections (one more is closed at once), a cap on request bodies,
 * and an idle keep-alive timeout. `Deno.serve` has no header deadline, so this uses Deno's
 * `node:http` server (headersTimeout, maxConnections) and bridges each request to a web
 * `Request` -> `Response` handler. Streamed bodies (Server-Sent Events) are written as they
 * come and ended cleanly on `close()`.
 */

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

/** Limits of the HTTP listener (`[api]` header_timeout_ms, max_connections). */
export interface HttpLimits {
  /** A request's header must be complete this long after its first byte, or 408 + close. */
  headerTimeoutMs: number;
  /** Open connections at most; one more is closed as soon as it is accepted. */
  maxConnections: number;
}

/** Request bodies larger than this are answered 413 (the API's requests carry none). */
export const MAX_REQUEST_BODY_BYTES = 64 * 1024;

/** After its header, a request's body must arrive within this long. */
export const REQUEST_BODY_TIMEOUT_MS = 10_000;

/** An idle keep-alive connection is closed after this long. */
export const KEEP_ALIVE_TIMEOUT_MS = 5000;

/** How long `close()` lets in-flight requests finish before closing their connections. */
const CLOSE_GRACE_MS = 500;

/** A running listener. */
export interface HttpListener {
  /** The port bound (filled in when 0 was asked). */
  readonly port: number;
  /** Stops accepting, ends streamed bodies, and closes every connection within ~0.5 s. */
  close(): Promise<void>;
}

/**
 * Listens on `host:port` and answers each request with `handle`. Rejects with the bind error
 * (a Node-style error with `code`, e.g. "EADDRINUSE") when the address cannot be bound.
 */
export async function listenHttp(
  at: { host: string; port: number },
  limits: HttpLimits,
  handle: (request: Request) => Promise<Response>,
): Promise<HttpListener> {
  const streaming = new Set<ReadableStreamDefaultReader<Uint8Array>>();
  const host = at.host.includes(":") ? `[${at.host}]` : at.host;
  let origin = `http://${host}:${at.port}`;
  const server = createServer({
    headersTimeout: limits.headerTimeoutMs,
    requestTimeout: limits.headerTimeoutMs + REQUEST_BODY_TIMEOUT_MS,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    // How often the deadlines are checked: Node's default (30 s) would let them slip.
    connectionsCheckingInterval: Math.max(50, Math.min(1000, limits.headerTimeoutMs / 4)),
  }, (incoming, outgoing) => {
    void answer(incoming, outgoing, origin, handle, streaming);
  });
  server.maxConnections = limits.maxConnections;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(at.port, at.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : at.port;
  origin = `http://${host}:${port}`;
  let closing: Promise<void> | null = null;
  return {
    port,
    close: () =>
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const reader of streaming) void reader.cancel().catch(() => {});
        server.closeIdleConnections();
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([closed, new Promise((r) => timer = setTimeout(r, CLOSE_GRACE_MS))]);
        clearTimeout(timer);
        server.closeAllConnections();
        await closed;
      })(),
  };
}

/** Turns one Node request into a web Request, runs the handler, writes its Response back. */
async function answer(
  incoming: IncomingMessage,
  outgoing: ServerResponse,
  origin: string,
  handle: (request: Request) => Promise<Response>,
  streaming: Set<ReadableStreamDefaultReader<Uint8Array>>,
): Promise<void> {
  try {
    const request = await toRequest(incoming, origin);
    const response = request instanceof Response ? request : await handle(request);
    await writeResponse(response, outgoing, streaming);
  } catch {
    // The client went away mid-answer, or the answer could not be written: nothing to tell.
    outgoing.destroy();
  }
}

/** The web Request for a Node request, or the error Response when it cannot be one. */
async function toRequest(incoming: IncomingMessage, origin: string): Promise<Request | Response> {
  let url: URL;
  try {
    url = new URL(incoming.url ?? "/", origin);
  } catch {
    return plainError(400, "malformed request target");
  }
  const headers = new Headers();
  for (let i = 0; i + 1 < incoming.rawHeaders.length; i += 2) {
    try {
      headers.append(incoming.rawHeaders[i], incoming.rawHeaders[i + 1]);
    } catch {
      return plainError(400, `malformed header ${JSON.stringify(incoming.rawHeaders[i])}`);
    }
  }
  const method = incoming.method ?? "GET";
  const body = method === "GET" || method === "HEAD" ? null : await readBody(incoming);
  if (body instanceof Response) return body;
  return new Request(url, { method, headers, body: body?.length ? body : null });
}

/** The request body, or a 413 Response past MAX_REQUEST_BODY_BYTES. */
async function readBody(
  incoming: IncomingMessage,
): Promise<Uint8Array<ArrayBuffer> | Response> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of incoming as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > MAX_REQUEST_BODY_BYTES) {
      return plainError(413, `request body over ${MAX_REQUEST_BODY_BYTES} bytes`, true);
    }
    chunks.push(chunk);
  }
  return new Uint8Array(await new Blob(chunks as BlobPart[]).arrayBuffer());
}

/** Writes status, headers and body; a streamed body is written as it comes, with backpressure. */
async function writeResponse(
  response: Response,
  outgoing: ServerResponse,
  streaming: Set<ReadableStreamDefaultReader<Uint8Array>>,
): Promise<void> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => headers[name] = value);
  outgoing.writeHead(response.status, headers);
  if (response.body === null) {
    outgoing.end();
    return;
  }
  const reader = response.body.getReader();
  streaming.add(reader);
  outgoing.once("close", () => void reader.cancel().catch(() => {}));
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!outgoing.write(value)) {
        await new Promise<void>((resolve) => {
          outgoing.once("drain", resolve);
          outgoing.once("close", resolve);
        });
      }
      if (outgoing.destroyed) break;
    }
  } finally {
    streaming.delete(reader);
  }
  outgoing.end();
}

/** A JSON error answered before the router runs; `close` ends the connection after it. */
function plainError(status: number, message: string, close = false): Response {
  return new Response(JSON.stringify({ error: message }) + "\n", {
    status,
    headers: {
      "content-type": "application/json; charset=utf-8",
      ...(close ? { connection: "close" } : {}),
    },
  });
}
