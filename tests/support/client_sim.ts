/**
 * A simulated wake client (what neolink, the Reolink app or `bairelay wake` do): C2M_Q to
 * the middleman, C2R_C to the register, and the replies collected.
 *
 * ```ts
 * const client = await ClientSim.start();
 * const where = await client.query(server.middleman, "95270000ABCDEFGH");
 * const { reply, transfer } = await client.connect(server.register, "95270000ABCDEFGH");
 * await client.close();
 * ```
 */

import { message, type MessageOf } from "../../lib/bcudp/mod.ts";
import { DEFAULT_WAIT_MS, type Endpoint, type Received, UdpPeer } from "./udp_peer.ts";

export type { Endpoint, Received } from "./udp_peer.ts";

/** What a C2R_C brought back. */
export interface ConnectResult {
  /** The R2C_C_R (rsp 0 with dev/dmap/relay/sid, or rsp -1). */
  reply: Received<"R2C_C_R">;
  /** The R2C_T that follows a successful R2C_C_R (undefined on rsp -1). */
  transfer?: Received<"R2C_T">;
}

/** Options for `connect`. */
export interface ConnectOptions {
  /** The cid to send (default a random i32). */
  cid?: number;
  /** The `<cli>` the client claims (default its own socket address). */
  cli?: Endpoint;
  /** Bound on the wait for R2C_C_R and R2C_T, ms. */
  timeoutMs?: number;
}

/** A simulated wake client; see the module docs. */
export class ClientSim extends UdpPeer {
  /** Binds the client's socket on `ip` (default 127.0.0.1), ephemeral port. */
  static async start(ip = "127.0.0.1"): Promise<ClientSim> {
    const socket = await UdpPeer.bindSocket(ip, 0);
    const bound = socket.address();
    return new ClientSim(socket, { ip: bound.address, port: bound.port });
  }

  /** Sends C2M_Q for `uid` (short form) and returns the M2C_Q_R. */
  query(middleman: Endpoint, uid: string, timeoutMs = DEFAULT_WAIT_MS) {
    return this.request(message("C2M_Q", { uid, p: "MAC" }), middleman, "M2C_Q_R", timeoutMs);
  }

  /** The C2R_C this client sends for `uid`. */
  connectMessage(uid: string, register: Endpoint, options: ConnectOptions = {}) {
    const cid = options.cid ?? (crypto.getRandomValues(new Int32Array(1))[0]);
    return message("C2R_C", {
      uid,
      cli: { ...(options.cli ?? this.address) },
      relay: { ...register },
      cid,
      debug: 0,
      family: 4,
      p: "MAC",
      r: 3,
    }) as MessageOf<"C2R_C">;
  }

  /**
   * Sends C2R_C for `uid` and waits for R2C_C_R, then (when rsp is 0) for the R2C_T with
   * the same tid.
   */
  async connect(
    register: Endpoint,
    uid: string,
    options: ConnectOptions = {},
  ): Promise<ConnectResult> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_MS;
    const request = this.connectMessage(uid, register, options);
    const tid = crypto.getRandomValues(new Uint32Array(1))[0];
    const replyWait = this.waitFor("R2C_C_R", { match: (r) => r.tid === tid, timeoutMs });
    await this.send(request, register, tid);
    const reply = await replyWait;
    if (reply.message.fields.rsp !== 0) return { reply };
    const transfer = await this.waitFor("R2C_T", {
      match: (r) => r.tid === tid,
      timeoutMs,
      includePast: true,
    });
    return { reply, transfer };
  }
}
