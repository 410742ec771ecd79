/**
 * A scripted fake wake server for client tests: a middleman and a register on real UDP
 * sockets (loopback, ephemeral ports) that answer, stay silent, drop the first N requests,
 * or send garbage and wrong tids first, as each test says. It records every request.
 */

import dgram from "node:dgram";
import {
  decodeDatagram,
  type DiscoveryPacket,
  encodeDiscovery,
  type Message,
  message,
} from "../../lib/bcudp/mod.ts";

/** An IPv4 address and port. */
export interface Address {
  ip: string;
  port: number;
}

/** One datagram the fake sends back: a message (with the request's tid unless given). */
export interface ScriptedReply {
  message: Message;
  tid?: number;
}

/** How one listener (middleman or register) behaves. */
export interface StepScript {
  /** Never answer anything. */
  silent?: boolean;
  /** Ignore the first N requests (the N+1th is answered). */
  drop?: number;
  /** Sent before each real answer: undecodable bytes and/or a well-formed reply with another tid. */
  noise?: ("garbage" | "wrong_tid")[];
  /** The answer to a request (default: the protocol's happy path). */
  reply?: (request: DiscoveryPacket, fake: FakeWakeServer) => ScriptedReply[];
}

/** Options of `startFakeWakeServer`. */
export interface FakeWakeServerOptions {
  /** Loopback address to bind (default 127.0.0.1). */
  host?: string;
  middleman?: StepScript;
  register?: StepScript;
  /** The camera address the default register reply puts in `<dev>`. */
  camera?: Address;
  /** The sid the default register reply carries. */
  sid?: number;
}

/** A request the fake received. */
export interface RecordedRequest {
  at: number;
  from: Address;
  packet: DiscoveryPacket;
}

/** A running fake server. */
export interface FakeWakeServer {
  readonly middleman: Address;
  readonly register: Address;
  readonly camera: Address;
  readonly sid: number;
  readonly middlemanRequests: RecordedRequest[];
  readonly registerRequests: RecordedRequest[];
  /** Datagrams received that did not decode. */
  readonly undecodable: number;
  close(): Promise<void>;
}

/** The default middleman answer: M2C_Q_R pointing every address at the fake register. */
export function registerAnswer(request: DiscoveryPacket, fake: FakeWakeServer): ScriptedReply[] {
  const reg = { ...fake.register };
  return [{
    message: message("M2C_Q_R", { reg, relay: reg, log: reg, t: reg }),
    tid: request.tid,
  }];
}

/** The default register answer: R2C_C_R (rsp 0) then R2C_T, as the cloud does. */
export function wokenAnswer(request: DiscoveryPacket, fake: FakeWakeServer): ScriptedReply[] {
  const cid = request.message.variant === "C2R_C" ? request.message.fields.cid : 0;
  const dev = { ...fake.camera };
  return [
    {
      message: message("R2C_C_R", {
        dev,
        dmap: dev,
        relay: { ...fake.register },
        nat: "NULL",
        sid: fake.sid,
        rsp: 0,
        ac: fake.sid,
      }),
    },
    { message: message("R2C_T", { dev, dmap: dev, sid: fake.sid, cid }) },
  ];
}

/** A register answer with only `rsp` (e.g. -1: camera unknown). */
export function rspAnswer(rsp: number): StepScript["reply"] {
  return () => [{ message: message("R2C_C_R", { nat: "NULL", rsp, ac: 0 }) }];
}

const GARBAGE = new TextEncoder().encode("this is not a BcUdp packet");

async function bind(host: string): Promise<dgram.Socket> {
  const socket = dgram.createSocket("udp4");
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(0, host, () => {
      socket.off("error", reject);
      resolve();
    });
  });
  return socket;
}

/** Starts a fake middleman + register pair on `options.host` (ephemeral ports). */
export async function startFakeWakeServer(
  options: FakeWakeServerOptions = {},
): Promise<FakeWakeServer> {
  const host = options.host ?? "127.0.0.1";
  const middlemanSocket = await bind(host);
  const registerSocket = await bind(host);
  const middlemanRequests: RecordedRequest[] = [];
  const registerRequests: RecordedRequest[] = [];
  let undecodable = 0;
  const fake: FakeWakeServer = {
    middleman: { ip: host, port: middlemanSocket.address().port },
    register: { ip: host, port: registerSocket.address().port },
    camera: options.camera ?? { ip: "127.0.0.1", port: 40123 },
    sid: options.sid ?? 0x1234abcd,
    middlemanRequests,
    registerRequests,
    get undecodable() {
      return undecodable;
    },
    async close() {
      await Promise.all(
        [middlemanSocket, registerSocket].map((socket) =>
          new Promise<void>((resolve) => socket.close(() => resolve()))
        ),
      );
    },
  };
  const serve = (
    socket: dgram.Socket,
    script: StepScript,
    log: RecordedRequest[],
    defaultReply: NonNullable<StepScript["reply"]>,
  ) => {
    socket.on("message", (bytes, remote) => {
      let packet: DiscoveryPacket;
      try {
        const [first] = decodeDatagram(new Uint8Array(bytes));
        if (first.kind !== "discovery") throw new Error("not discovery");
        packet = first;
      } catch {
        undecodable++;
        return;
      }
      log.push({ at: Date.now(), from: { ip: remote.address, port: remote.port }, packet });
      if (script.silent || log.length <= (script.drop ?? 0)) return;
      const send = (datagram: Uint8Array) => socket.send(datagram, remote.port, remote.address);
      const replies = (script.reply ?? defaultReply)(packet, fake);
      for (const noise of script.noise ?? []) {
        if (noise === "garbage") send(GARBAGE);
        else if (replies.length > 0) {
          send(encodeDiscovery(replies[0].message, (packet.tid + 1) >>> 0));
        }
      }
      for (const reply of replies) send(encodeDiscovery(reply.message, reply.tid ?? packet.tid));
    });
  };
  serve(middlemanSocket, options.middleman ?? {}, middlemanRequests, registerAnswer);
  serve(registerSocket, options.register ?? {}, registerRequests, wokenAnswer);
  return fake;
}

/** A fake camera port: accepts and closes every connection until `close()`. */
export interface FakeCameraPort {
  readonly port: number;
  close(): Promise<void>;
}

/** Listens on `ip`:`port` the way a woken camera opens TCP 9000. */
export function listenLikeACamera(ip: string, port: number): FakeCameraPort {
  const listener = Deno.listen({ hostname: ip, port });
  const accepting = (async () => {
    try {
      for await (const connection of listener) connection.close();
    } catch { /* closed */ }
  })();
  return {
    port,
    async close() {
      try {
        listener.close();
      } catch { /* already closed */ }
      await accepting;
    },
  };
}

/** Opens a fake camera port on `ip`:`port` after `delayMs`; `close()` cancels or closes it. */
export function openCameraPortLater(ip: string, port: number, delayMs: number): FakeCameraPort {
  let opened: FakeCameraPort | undefined;
  const timer = setTimeout(() => opened = listenLikeACamera(ip, port), delayMs);
  return {
    port,
    async close() {
      clearTimeout(timer);
      await opened?.close();
    },
  };
}

/** Runs `body` with a fake server started with `options`, closing it afterwards. */
export async function withFakeWakeServer(
  options: FakeWakeServerOptions | undefined,
  body: (fake: FakeWakeServer) => Promise<void>,
): Promise<void> {
  const fake = await startFakeWakeServer(options);
  try {
    await body(fake);
  } finally {
    await fake.close();
  }
}
