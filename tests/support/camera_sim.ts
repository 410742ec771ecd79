/**
 * A simulated Argus battery camera for tests: its own UDP socket on a chosen loopback
 * address, the real boot handshake against a wake server (D2M_Q -> M2D_Q_R -> D2R_R ->
 * R2D_R_R -> D2R_HB -> R2D_HB_R), heartbeats, and the wake side: every R2D_C is recorded
 * with its receive time, answered once per sid with D2R_C_R, and can open a TCP port the
 * way a woken camera starts listening on 9000.
 *
 * ```ts
 * const camera = await CameraSim.start({ uid: "95270000ABCDEFGH0123", ip: "127.0.0.2",
 *   middleman: server.middleman });
 * await camera.boot();                  // registered now
 * const wakes = await camera.waitForWakes(10);
 * await camera.close();
 * ```
 */

import { message, type MessageOf } from "../../lib/bcudp/mod.ts";
import { DEFAULT_WAIT_MS, type Endpoint, type Received, UdpPeer } from "./udp_peer.ts";

export type { Endpoint, Received } from "./udp_peer.ts";

/** How to build a simulated camera. */
export interface CameraSimOptions {
  /** The long UID the camera reports (16-char sticker UID + 4-char suffix). */
  uid: string;
  /** The wake server's middleman, where the boot starts. */
  middleman: Endpoint;
  /** Local address to bind (default 127.0.0.1; use 127.0.0.2, .3 ... for several cameras). */
  ip?: string;
  /** Local UDP port (default ephemeral). */
  port?: number;
  /** The `<r>` firmware revision sent in D2M_Q and D2R_R (default 2). */
  r?: number;
  /** The self-reported `<dev>` in heartbeats (default none, like some firmwares). */
  dev?: Endpoint;
  /** Answer each new wake sid with D2R_C_R (default true). */
  answerWakes?: boolean;
  /**
   * Open a TCP listener on this port of `ip` at the first wake (0 = ephemeral); the
   * bound port is then `tcpPort`. Undefined = no TCP.
   */
  tcpOnWake?: number;
  /** Bound on each handshake step, ms (default 3000). */
  timeoutMs?: number;
}

/** Everything the boot handshake saw. */
export interface BootResult {
  /** The middleman's M2D_Q_R. */
  m2dqr: Received<"M2D_Q_R">;
  /** The decrypted XML of the M2D_Q_R, byte-exact. */
  m2dqrXml: string;
  /** The register's R2D_R_R. */
  r2drr: Received<"R2D_R_R">;
  /** The register's answer to the first heartbeat. */
  hbr: Received<"R2D_HB_R">;
  /** The register address learned from M2D_Q_R `<reg>`. */
  register: Endpoint;
}

/** A simulated camera; see the module docs. */
export class CameraSim extends UdpPeer {
  readonly uid: string;
  /** The register address learned at boot (or set by hand to skip the boot). */
  register?: Endpoint;
  /** The session token from M2D_Q_R, echoed in D2R_R and heartbeats. */
  token = 1n;
  /** The bound TCP port once opened by a wake. */
  tcpPort?: number;
  /** TCP connections accepted on `tcpPort`. */
  tcpConnections = 0;
  private readonly options: CameraSimOptions;
  private readonly answered = new Set<number>();
  private heartbeatTimer?: ReturnType<typeof setInterval>;
  private tcpListener?: Deno.TcpListener;
  private tcpAccepting?: Promise<void>;

  private constructor(
    socket: Awaited<ReturnType<typeof UdpPeer.bindSocket>>,
    address: Endpoint,
    options: CameraSimOptions,
  ) {
    super(socket, address);
    this.uid = options.uid;
    this.options = options;
    this.onMessage = (r) => {
      if (r.message.variant === "R2D_C") this.onWake(r as unknown as Received<"R2D_C">);
    };
  }

  /** Binds the camera's socket (nothing is sent until `boot()` or `heartbeat()`). */
  static async start(options: CameraSimOptions): Promise<CameraSim> {
    const socket = await UdpPeer.bindSocket(options.ip ?? "127.0.0.1", options.port ?? 0);
    const bound = socket.address();
    return new CameraSim(socket, { ip: bound.address, port: bound.port }, options);
  }

  private get timeoutMs(): number {
    return this.options.timeoutMs ?? DEFAULT_WAIT_MS;
  }

  /** Sends D2M_Q to the middleman and returns its M2D_Q_R (remembering reg and token). */
  async query(): Promise<Received<"M2D_Q_R">> {
    const m2dqr = await this.request(
      message("D2M_Q", { uid: this.uid, r: this.options.r ?? 2 }),
      this.options.middleman,
      "M2D_Q_R",
      this.timeoutMs,
    );
    this.register = { ...m2dqr.message.fields.reg };
    this.token = m2dqr.message.fields.token;
    return m2dqr;
  }

  /** Sends D2R_R with `token` (default: the anchored one) and waits for R2D_R_R. */
  anchor(token = this.token, timeoutMs = this.timeoutMs): Promise<Received<"R2D_R_R">> {
    return this.request(
      message("D2R_R", { uid: this.uid, token, r: this.options.r ?? 2 }),
      this.requireRegister(),
      "R2D_R_R",
      timeoutMs,
    );
  }

  /** The heartbeat message this camera sends. */
  heartbeatMessage(needrsp: number): MessageOf<"D2R_HB"> {
    const fields: MessageOf<"D2R_HB">["fields"] = { uid: this.uid, needrsp, token: this.token };
    if (this.options.dev) fields.dev = { ...this.options.dev };
    return message("D2R_HB", fields);
  }

  /**
   * Sends one D2R_HB. With needrsp 1 (default) waits for and returns the R2D_HB_R; with
   * needrsp 0 returns undefined once sent.
   */
  async heartbeat(needrsp = 1): Promise<Received<"R2D_HB_R"> | undefined> {
    const hb = this.heartbeatMessage(needrsp);
    if (needrsp !== 1) {
      await this.send(hb, this.requireRegister());
      return undefined;
    }
    return await this.request(hb, this.requireRegister(), "R2D_HB_R", this.timeoutMs);
  }

  /** The full boot handshake, as a real camera does after power-on. */
  async boot(): Promise<BootResult> {
    const m2dqr = await this.query();
    const m2dqrXml = m2dqr.xml;
    const r2drr = await this.anchor();
    const hbr = (await this.heartbeat(1))!;
    return { m2dqr, m2dqrXml, r2drr, hbr, register: this.register! };
  }

  /** Sends a heartbeat (needrsp 1, not awaited) every `intervalMs` until stopped. */
  startHeartbeats(intervalMs: number): void {
    this.stopHeartbeats();
    this.heartbeatTimer = setInterval(() => {
      this.send(this.heartbeatMessage(1), this.requireRegister()).catch(() => {});
    }, intervalMs);
  }

  /** Stops periodic heartbeats. */
  stopHeartbeats(): void {
    if (this.heartbeatTimer !== undefined) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  /** Every R2D_C received so far (receive time in `.at`, performance.now()). */
  get wakes(): Received<"R2D_C">[] {
    return this.all("R2D_C");
  }

  /** Waits until at least `count` R2D_C have arrived in total; returns them all. */
  async waitForWakes(count: number, timeoutMs = this.timeoutMs): Promise<Received<"R2D_C">[]> {
    const deadline = performance.now() + timeoutMs;
    while (this.wakes.length < count) {
      const left = deadline - performance.now();
      if (left <= 0) {
        throw new Error(`${this.uid}: ${this.wakes.length} of ${count} R2D_C in ${timeoutMs} ms`);
      }
      await this.waitFor("R2D_C", { timeoutMs: left }).catch(() => {});
    }
    return this.wakes;
  }

  private onWake(r: Received<"R2D_C">): void {
    const sid = r.message.fields.sid;
    if (this.options.answerWakes !== false && !this.answered.has(sid)) {
      this.answered.add(sid);
      this.send(message("D2R_C_R", { sid, rsp: 0 }), r.from).catch(() => {});
    }
    if (this.options.tcpOnWake !== undefined && this.tcpListener === undefined) this.openTcp();
  }

  private openTcp(): void {
    this.tcpListener = Deno.listen({ hostname: this.address.ip, port: this.options.tcpOnWake! });
    this.tcpPort = (this.tcpListener.addr as Deno.NetAddr).port;
    const listener = this.tcpListener;
    this.tcpAccepting = (async () => {
      try {
        for await (const conn of listener) {
          this.tcpConnections++;
          conn.close();
        }
      } catch { /* listener closed */ }
    })();
  }

  private requireRegister(): Endpoint {
    if (this.register === undefined) throw new Error(`${this.uid}: boot() or query() first`);
    return this.register;
  }

  /** Stops heartbeats, closes the TCP listener and the socket. */
  override async close(): Promise<void> {
    this.stopHeartbeats();
    if (this.tcpListener !== undefined) {
      try {
        this.tcpListener.close();
      } catch { /* already closed */ }
      await this.tcpAccepting;
    }
    await super.close();
  }
}
