/**
 * The control API's HTTP/1.1 listener, over `Deno.listen`, with the limits a LAN-facing server
 * needs: a deadline for each request's header (a slow or half-sent header gets 408 and the
 * connection is closed), a cap on header size, caps on open connections in all and per source
 * address (one more is closed at once), a cap on request bodies, and an idle keep-alive timeout.
 *
 * Why not `Deno.serve`: its handler sees a request only once its header is parsed, and it has
 * no header deadline (a half-sent header stayed open for minutes), no connection cap and no
 * hook on a connection before its request; `Deno.serveHttp`, which served one connection
 * accepted from our own `Deno.listen`, is gone in Deno 2. Nor would it save memory: an empty
 * process serving with it measured no smaller than one with this listener. Why not
 * `node:http`: importing it brings up Deno's Node compatibility layer, several MB of resident
 * memory for the whole life of `serve`.
 *
 * Deliberately small: HTTP/1.1 and 1.0 over plain TCP; requests answered one at a time, in
 * order, per connection; bodies only with Content-Length (a Transfer-Encoding request body is
 * refused with 501); no HTTP/2, no TLS, no `Expect: 100-continue` (such a request is simply
 * answered). Responses are sent with Content-Length, except Server-Sent Events
 * (`text/event-stream`), which are streamed chunked as they come.
 */
import { errorResponse } from "./json_response.ts";

/**
 * Limits of the HTTP listener (`[api]` header_timeout_ms, max_connections,
 * max_connections_per_address).
 */
export interface HttpLimits {
  /** A request's header must be complete this long after its first byte, or 408 + close. */
  headerTimeoutMs: number;
  /** Open connections at most; one more is closed as soon as it is accepted. */
  maxConnections: number;
  /**
   * Open connections from one source address at most; one more is closed as soon as it is
   * accepted. Without it one host holding half-sent headers fills `maxConnections` and every
   * other client is refused until the header deadline frees a slot.
   */
  maxConnectionsPerAddress: number;
}

/** Request bodies larger than this are answered 413 (the API's requests carry none). */
export const MAX_REQUEST_BODY_BYTES = 64 * 1024;

/** A request line and header larger than this are answered 431. */
export const MAX_HEADER_BYTES = 16 * 1024;

/** After its header, a request's body must arrive within this long. */
export const REQUEST_BODY_TIMEOUT_MS = 10_000;

/** An idle keep-alive connection is closed after this long. */
export const KEEP_ALIVE_TIMEOUT_MS = 5000;

/** How long `close()` lets in-flight requests finish before closing their connections. */
const CLOSE_GRACE_MS = 500;

/**
 * After a refused request, what the peer still sends is read and dropped (closing with unread
 * bytes would reset the connection, and the peer might never see the answer): this much at most.
 */
const DRAIN_BYTES = 1024 * 1024;

/** ... and for this long at most. */
const DRAIN_MS = 1000;

/** How much one read takes from the socket. */
const READ_CHUNK_BYTES = 4096;

/** A running listener. */
export interface HttpListener {
  /** The port bound (filled in when 0 was asked). */
  readonly port: number;
  /** Stops accepting, ends streamed bodies, and closes every connection within ~0.5 s. */
  close(): Promise<void>;
}

/** The reason phrase of each status the API answers with. */
const REASONS: Record<number, string> = {
  200: "OK",
  201: "Created",
  202: "Accepted",
  204: "No Content",
  304: "Not Modified",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  409: "Conflict",
  413: "Content Too Large",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const latin1 = new TextDecoder("latin1");
const encoder = new TextEncoder();
const CRLF = encoder.encode("\r\n");

/**
 * Listens on `host:port` and answers each request with `handle`. Throws Deno's bind error
 * (Deno.errors.AddrInUse, PermissionDenied, AddrNotAvailable...) when it cannot listen.
 */
export function listenHttp(
  at: { host: string; port: number },
  limits: HttpLimits,
  handle: (request: Request, peer: string) => Promise<Response>,
): HttpListener {
  const listener = Deno.listen({ hostname: at.host, port: at.port, transport: "tcp" });
  const port = listener.addr.port;
  const host = at.host.includes(":") ? `[${at.host}]` : at.host;
  const origin = `http://${host}:${port}`;
  const connections = new Set<Connection>();
  /** Open connections per source address (an address is removed with its last connection). */
  const perAddress = new Map<string, number>();
  const accepting = (async () => {
    for await (const conn of listener) {
      const from = conn.remoteAddr.hostname;
      const fromThere = perAddress.get(from) ?? 0;
      if (
        connections.size >= limits.maxConnections || fromThere >= limits.maxConnectionsPerAddress
      ) {
        conn.close();
        continue;
      }
      // Answers are small and interactive: send each as soon as it is written (no Nagle).
      conn.setNoDelay(true);
      const connection = new Connection(conn, origin, limits, handle);
      connections.add(connection);
      perAddress.set(from, fromThere + 1);
      void connection.serve().finally(() => {
        connections.delete(connection);
        const left = perAddress.get(from)! - 1;
        if (left === 0) perAddress.delete(from);
        else perAddress.set(from, left);
      });
    }
  })().catch(() => {/* the listener was closed */});
  let closing: Promise<void> | null = null;
  return {
    port,
    close: () =>
      closing ??= (async () => {
        listener.close();
        await accepting;
        for (const connection of connections) connection.stopStreaming();
        const ended = Promise.all([...connections].map((c) => c.ended));
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([ended, new Promise((r) => timer = setTimeout(r, CLOSE_GRACE_MS))]);
        clearTimeout(timer);
        for (const connection of connections) connection.destroy();
        await ended;
      })(),
  };
}

/** A parsed request header. */
interface RequestHead {
  method: string;
  target: string;
  version: "HTTP/1.0" | "HTTP/1.1";
  headers: Headers;
}

/** A request that cannot be served: answered with `status` and the connection closed. */
class Refusal {
  constructor(readonly status: number, readonly message: string) {}
}

/** One accepted connection: reads requests in turn and writes their answers. */
class Connection {
  #buffer = new Uint8Array(0);
  #chunk = new Uint8Array(READ_CHUNK_BYTES);
  #reading: Promise<number | null> | null = null;
  #closed = false;
  #stream: ReadableStreamDefaultReader<Uint8Array> | null = null;
  #resolveEnded!: () => void;
  /** Settles when the connection is closed. */
  readonly ended = new Promise<void>((resolve) => this.#resolveEnded = resolve);

  constructor(
    private readonly conn: Deno.TcpConn,
    private readonly origin: string,
    private readonly limits: HttpLimits,
    private readonly handle: (request: Request, peer: string) => Promise<Response>,
  ) {}

  /** Serves requests until the peer or a limit ends the connection. */
  async serve(): Promise<void> {
    try {
      let first = true;
      while (!this.#closed) {
        const keepAlive = await this.#serveOne(first);
        first = false;
        if (!keepAlive) break;
      }
    } catch {
      // The peer went away or wrote garbage mid-answer: nothing to tell anyone.
    } finally {
      this.destroy();
    }
  }

  /** Cancels a streamed body being written (close() ends Server-Sent Events this way). */
  stopStreaming(): void {
    void this.#stream?.cancel().catch(() => {});
  }

  /** Closes the connection now. */
  destroy(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.stopStreaming();
    try {
      this.conn.close();
    } catch { /* already closed */ }
    this.#resolveEnded();
  }

  /** Reads, answers and returns whether the connection stays open for another request. */
  async #serveOne(first: boolean): Promise<boolean> {
    const head = await this.#readHead(first);
    if (head === null) return false;
    if (head instanceof Refusal) return await this.#refuse(head);
    const body = await this.#readBody(head);
    if (body instanceof Refusal) return await this.#refuse(body);
    let url: URL;
    try {
      url = new URL(head.target, this.origin);
    } catch {
      return await this.#refuse(new Refusal(400, "malformed request target"));
    }
    const request = new Request(url, { method: head.method, headers: head.headers, body });
    let response: Response;
    try {
      response = await this.handle(request, this.conn.remoteAddr.hostname);
    } catch {
      response = errorResponse(500, "internal error");
    }
    const keepAlive = head.version === "HTTP/1.1" &&
      !hasToken(head.headers.get("connection"), "close") &&
      !hasToken(response.headers.get("connection"), "close");
    await this.#writeResponse(response, head.method === "HEAD", keepAlive);
    return keepAlive;
  }

  /**
   * The next request's header: null when the peer closed (or stayed idle) before sending one,
   * a Refusal when it is late, too large or malformed.
   */
  async #readHead(first: boolean): Promise<RequestHead | Refusal | null> {
    // Each search starts where the last one stopped (less the 3 bytes a CRLF CRLF split by
    // a read may have begun with), so a header trickled a byte at a time costs linear time.
    let scanned = 0;
    const findEnd = () => {
      const end = headerEnd(this.#buffer, scanned);
      scanned = Math.max(0, this.#buffer.length - 3);
      return end;
    };
    let end = findEnd();
    if (end === -1 && this.#buffer.length === 0) {
      const idle = first ? this.limits.headerTimeoutMs : KEEP_ALIVE_TIMEOUT_MS;
      if (!await this.#fill(Date.now() + idle)) return null;
      end = findEnd();
    }
    const deadline = Date.now() + this.limits.headerTimeoutMs;
    while (end === -1) {
      if (this.#buffer.length > MAX_HEADER_BYTES) {
        return new Refusal(431, `request header over ${MAX_HEADER_BYTES} bytes`);
      }
      if (!await this.#fill(deadline)) {
        return this.#closed ? null : new Refusal(408, "request header not complete in time");
      }
      end = findEnd();
    }
    if (end > MAX_HEADER_BYTES) {
      return new Refusal(431, `request header over ${MAX_HEADER_BYTES} bytes`);
    }
    const text = latin1.decode(this.#buffer.subarray(0, end));
    this.#buffer = this.#buffer.slice(end + 4);
    return parseHead(text);
  }

  /** The request body (null when there is none), or a Refusal. */
  async #readBody(head: RequestHead): Promise<Uint8Array<ArrayBuffer> | null | Refusal> {
    if (head.headers.has("transfer-encoding")) {
      return new Refusal(501, "request bodies with Transfer-Encoding are not supported");
    }
    const declared = head.headers.get("content-length");
    if (declared === null) return null;
    if (!/^[0-9]{1,15}$/.test(declared)) return new Refusal(400, "malformed Content-Length");
    const size = Number(declared);
    if (size > MAX_REQUEST_BODY_BYTES) {
      return new Refusal(413, `request body over ${MAX_REQUEST_BODY_BYTES} bytes`);
    }
    const deadline = Date.now() + REQUEST_BODY_TIMEOUT_MS;
    while (this.#buffer.length < size) {
      if (!await this.#fill(deadline)) return new Refusal(408, "request body not sent in time");
    }
    const body = this.#buffer.slice(0, size);
    this.#buffer = this.#buffer.slice(size);
    return size === 0 || head.method === "GET" || head.method === "HEAD" ? null : body;
  }

  /** Answers a refused request, drains what the peer still sends, and ends the connection. */
  async #refuse(refusal: Refusal): Promise<false> {
    const response = errorResponse(refusal.status, refusal.message);
    await this.#writeResponse(response, false, false);
    try {
      await this.conn.closeWrite();
      let drained = 0;
      const deadline = Date.now() + DRAIN_MS;
      this.#buffer = new Uint8Array(0);
      while (drained < DRAIN_BYTES && await this.#fill(deadline)) {
        drained += this.#buffer.length;
        this.#buffer = new Uint8Array(0);
      }
    } catch { /* the peer is gone already */ }
    return false;
  }

  /**
   * Reads more bytes into the buffer before `deadline` (epoch ms). False when the peer closed,
   * the deadline passed or the connection was destroyed.
   */
  async #fill(deadline: number): Promise<boolean> {
    const wait = deadline - Date.now();
    if (wait <= 0 || this.#closed) return false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), wait);
    });
    const read = await Promise.race([this.#readMore(), timeout]);
    clearTimeout(timer);
    return typeof read === "number";
  }

  /**
   * One read from the socket, appended to the buffer; null when the peer closed. A read
   * outlives a deadline that passes first and the next caller takes it over, so bytes are never
   * read twice at once or lost.
   */
  #readMore(): Promise<number | null> {
    this.#reading ??= this.conn.read(this.#chunk).then((read) => {
      this.#reading = null;
      if (read !== null) this.#buffer = concat(this.#buffer, this.#chunk.subarray(0, read));
      return read;
    }, () => {
      this.#reading = null;
      return null;
    });
    return this.#reading;
  }

  /**
   * While an event stream is written, nothing else reads the socket: this notices the peer
   * closing (and ends the stream), and closes a peer that sends more than a request's worth.
   */
  async #watchPeer(): Promise<void> {
    while (this.#stream !== null && !this.#closed) {
      if (await this.#readMore() === null) {
        this.stopStreaming();
        return;
      }
      if (this.#buffer.length > MAX_HEADER_BYTES + MAX_REQUEST_BODY_BYTES) this.destroy();
    }
  }

  /** Writes the status line, headers and body; an event stream is written chunked as it comes. */
  async #writeResponse(response: Response, headOnly: boolean, keepAlive: boolean): Promise<void> {
    const streamed = response.headers.get("content-type")?.startsWith("text/event-stream") ??
      false;
    const body = streamed || headOnly || response.body === null
      ? null
      : new Uint8Array(await response.arrayBuffer());
    let head = `HTTP/1.1 ${response.status} ${REASONS[response.status] ?? "Unknown"}\r\n`;
    response.headers.forEach((value, name) => {
      if (name !== "content-length" && name !== "transfer-encoding" && name !== "connection") {
        head += `${name}: ${value}\r\n`;
      }
    });
    if (streamed) head += "transfer-encoding: chunked\r\n";
    else if (!headOnly) head += `content-length: ${body?.length ?? 0}\r\n`;
    head += keepAlive ? "\r\n" : "connection: close\r\n\r\n";
    await this.#write(concat(encoder.encode(head), body ?? new Uint8Array(0)));
    if (!streamed || response.body === null) return;
    if (headOnly) {
      await response.body.cancel();
      return;
    }
    this.#stream = response.body.getReader();
    void this.#watchPeer();
    try {
      while (!this.#closed) {
        const { done, value } = await this.#stream.read();
        if (done) break;
        if (value.length === 0) continue;
        const size = encoder.encode(`${value.length.toString(16)}\r\n`);
        await this.#write(concat(concat(size, value), CRLF));
      }
      if (!this.#closed) await this.#write(encoder.encode("0\r\n\r\n"));
    } finally {
      this.stopStreaming();
      this.#stream = null;
    }
  }

  /** Writes all of `bytes`, waiting for the peer to take them (backpressure). */
  async #write(bytes: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < bytes.length) offset += await this.conn.write(bytes.subarray(offset));
  }
}

/** `a` then `b` in one array: one write, so a small answer leaves in one segment. */
function concat(a: Uint8Array, b: Uint8Array): Uint8Array<ArrayBuffer> {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}

/** Where the header ends (the index of its blank line's CRLF CRLF), searched from `from`; or -1. */
function headerEnd(buffer: Uint8Array, from: number): number {
  for (let i = from; i + 3 < buffer.length; i++) {
    if (buffer[i] === 13 && buffer[i + 1] === 10 && buffer[i + 2] === 13 && buffer[i + 3] === 10) {
      return i;
    }
  }
  return -1;
}

/** Parses a request line and its header fields (the text before the blank line). */
function parseHead(text: string): RequestHead | Refusal {
  const [line, ...fields] = text.split("\r\n");
  const parts = line.split(" ");
  if (parts.length !== 3 || !TOKEN.test(parts[0])) {
    return new Refusal(400, "malformed request line");
  }
  const [method, target, version] = parts;
  if (version !== "HTTP/1.1" && version !== "HTTP/1.0") {
    return new Refusal(400, `unsupported protocol version ${JSON.stringify(version)}`);
  }
  if (!target.startsWith("/")) return new Refusal(400, "malformed request target");
  const headers = new Headers();
  for (const field of fields) {
    const colon = field.indexOf(":");
    const name = colon > 0 ? field.slice(0, colon) : "";
    if (!TOKEN.test(name)) return new Refusal(400, `malformed header ${JSON.stringify(field)}`);
    try {
      headers.append(name, field.slice(colon + 1).trim());
    } catch {
      return new Refusal(400, `malformed header ${JSON.stringify(name)}`);
    }
  }
  return { method, target, version, headers };
}

/** True when a comma-separated header value lists `token` (case-insensitive). */
function hasToken(value: string | null, token: string): boolean {
  return value !== null && value.split(",").some((part) => part.trim().toLowerCase() === token);
}
