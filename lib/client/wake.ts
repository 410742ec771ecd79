/**
 * The client side of the wake protocol (docs/protocol.md, "Waking: a client asks, the camera wakes"): ask the
 * middleman(s) where the register is (`C2M_Q` -> `M2C_Q_R`), then ask the register to wake
 * the camera (`C2R_C` -> `R2C_C_R` or `R2C_T`). Plain data in, plain data out; sockets,
 * clock, DNS and randomness are injectable.
 */

import {
  decodeDatagramLenient,
  type DiscoveryPacket,
  encodeDiscovery,
  type IpPort,
  message,
} from "../bcudp/mod.ts";
import {
  type Endpoint,
  formatAddress,
  type ResolveHost,
  ServerAddressError,
  type ServerSpec,
  systemResolveHost,
} from "./endpoint.ts";
import { type Clock, systemClock } from "../clock.ts";
import { type InterfaceAddress, localAddressFor, type RouteSource } from "../net/local_address.ts";
import { type ClientSocket, openDgramSocket, type OpenSocket } from "./udp.ts";

/** What to wake and through which servers. */
export interface WakeRequest {
  /** The camera's UID as sent in `C2M_Q` / `C2R_C` (the short 16-character form). */
  uid: string;
  /** Middlemen to ask, in order; all are asked at once and the first to answer wins. */
  servers: ServerSpec[];
  /** Time allowed for the whole exchange (both steps), in milliseconds. */
  timeoutMs: number;
  /** The `<p>` element: the client's platform (default "MAC", as the app and neolink send). */
  clientPlatform?: string;
  /** Resend interval of `C2M_Q` (default 500 ms). */
  middlemanResendMs?: number;
  /** Resend interval of `C2R_C` (default 1000 ms). */
  registerResendMs?: number;
}

/** Everything `wakeCamera` takes from the outside world. */
export interface WakeClientDeps {
  openSocket?: OpenSocket;
  resolveHost?: ResolveHost;
  /** The kernel's route to the register, for the `<cli>` address (default `ip route get`). */
  routeSource?: RouteSource;
  /** Local interfaces, the `<cli>` fallback when routes cannot be asked. */
  interfaces?: () => InterfaceAddress[];
  clock?: Clock;
  /** A random u32, for tids and the cid. */
  randomU32?: () => number;
}

/** The step of the exchange an outcome refers to. */
export type WakeStep = "middleman" | "register";

/** How a wake attempt ended. */
export type WakeOutcome =
  | {
    result: "woken";
    uid: string;
    /** The server (as given) whose middleman answered first. */
    server: string;
    register: Endpoint;
    /** The camera's address from `<dev>` (or `<dmap>`), when the register gave one. */
    camera?: Endpoint;
    sid?: number;
    /** Which reply confirmed the wake. */
    reply: "R2C_C_R" | "R2C_T";
    elapsedMs: number;
  }
  | {
    result: "not_registered";
    uid: string;
    server: string;
    register: Endpoint;
    rsp: number;
    elapsedMs: number;
  }
  | {
    result: "timeout";
    uid: string;
    step: WakeStep;
    /** Where the unanswered requests went. */
    asked: string[];
    /** How many times the request was sent to each. */
    attempts: number;
    /** Datagrams received but ignored (undecodable, or another tid). */
    ignored: number;
    /** The last send failure, if any (e.g. network unreachable). */
    sendError?: string;
    /** The server whose middleman answered (register step only). */
    server?: string;
    elapsedMs: number;
  }
  | {
    result: "unusable";
    uid: string;
    step: WakeStep;
    /** The address the reply came from. */
    from: string;
    server: string;
    reason: string;
    elapsedMs: number;
  };

/** Default resend intervals from the protocol description. */
export const MIDDLEMAN_RESEND_MS = 500;
export const REGISTER_RESEND_MS = 1000;
/** The client platform the Reolink app and neolink put in `<p>`. */
export const DEFAULT_CLIENT_PLATFORM = "MAC";
/** `rsp` values of `R2C_C_R` meaning "this camera has not registered here". */
export const NOT_REGISTERED_RSP: readonly number[] = [-1, -3];

interface Target {
  spec: ServerSpec;
  label: string;
  endpoint: Endpoint;
  tid: number;
}

function defaultRandomU32(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0];
}

/** A reply a step accepts, or the reason a reply with our tid cannot be used. */
type Verdict<T> = { accept: T } | { unusable: string; server: string } | undefined;

interface ExchangeResult<T> {
  reply?: { value: T; from: Endpoint } | { unusable: string; server: string; from: Endpoint };
  attempts: number;
  ignored: number;
  sendError?: string;
}

/**
 * Sends `packets` now and every `intervalMs` until `judge` accepts or rejects a reply or
 * `deadline` passes. Datagrams that do not decode, or that `judge` ignores, are counted.
 */
function exchange<T>(
  socket: ClientSocket,
  clock: Clock,
  packets: { bytes: Uint8Array; to: Endpoint }[],
  intervalMs: number,
  deadline: number,
  judge: (packet: DiscoveryPacket, from: Endpoint) => Verdict<T>,
): Promise<ExchangeResult<T>> {
  return new Promise((resolve) => {
    const state: ExchangeResult<T> = { attempts: 0, ignored: 0 };
    let resendTimer: unknown;
    const finish = () => {
      clock.clearTimeout(resendTimer);
      clock.clearTimeout(deadlineTimer);
      socket.onDatagram(undefined);
      resolve(state);
    };
    const sendAll = () => {
      for (const packet of packets) socket.send(packet.bytes, packet.to);
      state.attempts++;
      if (clock.now() + intervalMs < deadline) resendTimer = clock.setTimeout(sendAll, intervalMs);
    };
    const deadlineTimer = clock.setTimeout(finish, Math.max(0, deadline - clock.now()));
    socket.onSendError((error) => state.sendError = error);
    socket.onDatagram((bytes, from) => {
      for (const packet of decodeDatagramLenient(bytes).packets) {
        const verdict = packet.kind === "discovery" ? judge(packet, from) : undefined;
        if (verdict === undefined) continue;
        state.reply = "accept" in verdict
          ? { value: verdict.accept, from }
          : { unusable: verdict.unusable, server: verdict.server, from };
        finish();
        return;
      }
      state.ignored++;
    });
    sendAll();
  });
}

async function resolveTargets(
  servers: ServerSpec[],
  resolveHost: ResolveHost,
  randomU32: () => number,
): Promise<Target[]> {
  if (servers.length === 0) throw new ServerAddressError("no server to ask");
  const resolved = await Promise.allSettled(servers.map((spec) => resolveHost(spec.host)));
  const targets: Target[] = [];
  const failures: string[] = [];
  resolved.forEach((result, index) => {
    const spec = servers[index];
    if (result.status === "fulfilled") {
      targets.push({
        spec,
        label: formatAddress(spec),
        endpoint: { ip: result.value, port: spec.port },
        tid: randomU32(),
      });
    } else failures.push(String(result.reason?.message ?? result.reason));
  });
  if (targets.length === 0) throw new ServerAddressError(failures.join("; "));
  return targets;
}

/** `host:port`, plus the resolved address when the host is a name. */
function describeTarget(target: Target): string {
  const resolved = target.spec.host === target.endpoint.ip ? "" : ` (${target.endpoint.ip})`;
  return target.label + resolved;
}

function ipPortEndpoint(value: IpPort | undefined): Endpoint | undefined {
  return value === undefined ? undefined : { ip: value.ip, port: value.port };
}

/** The middleman's answer: which server answered and where its register is. */
interface MiddlemanAnswer {
  target: Target;
  register: Endpoint;
}

/** Judges a reply to `C2M_Q`: ours if its tid is one we sent; usable if it names `<reg>`. */
function judgeMiddlemanReply(targets: Target[], packet: DiscoveryPacket): Verdict<MiddlemanAnswer> {
  const target = targets.find((candidate) => candidate.tid === packet.tid);
  if (target === undefined) return undefined;
  const reply = packet.message;
  const server = target.label;
  if (reply.variant !== "M2C_Q_R") {
    return { unusable: `the middleman answered ${reply.variant} instead of M2C_Q_R`, server };
  }
  const register = ipPortEndpoint(reply.fields.reg);
  if (register === undefined) {
    const rsp = reply.fields.rsp === undefined ? "" : ` (rsp ${reply.fields.rsp})`;
    return { unusable: `the middleman's M2C_Q_R names no register (<reg>)${rsp}`, server };
  }
  // A server bound to every address may advertise 0.0.0.0: its register is where it is.
  if (register.ip === "0.0.0.0") register.ip = target.endpoint.ip;
  return { accept: { target, register } };
}

/** The register's answer to `C2R_C`. */
type RegisterAnswer =
  | { kind: "woken"; reply: "R2C_C_R" | "R2C_T"; camera?: Endpoint; sid?: number }
  | { kind: "not_registered"; rsp: number };

/**
 * Judges a reply to `C2R_C` (sent with `tid` and `cid`): `R2C_C_R` with our tid, or
 * `R2C_T` with our tid or our cid (a server may give it a fresh tid).
 */
function judgeRegisterReply(
  ours: { tid: number; cid: number; server: string },
  packet: DiscoveryPacket,
): Verdict<RegisterAnswer> {
  const reply = packet.message;
  const { server } = ours;
  if (reply.variant === "R2C_T" && (packet.tid === ours.tid || reply.fields.cid === ours.cid)) {
    const camera = ipPortEndpoint(reply.fields.dev ?? reply.fields.dmap);
    return { accept: { kind: "woken", reply: "R2C_T", camera, sid: reply.fields.sid } };
  }
  if (packet.tid !== ours.tid) return undefined;
  if (reply.variant !== "R2C_C_R") {
    return { unusable: `the register answered ${reply.variant} instead of R2C_C_R`, server };
  }
  const { rsp } = reply.fields;
  if (NOT_REGISTERED_RSP.includes(rsp)) return { accept: { kind: "not_registered", rsp } };
  if (rsp !== 0) return { unusable: `the register refused the wake with rsp ${rsp}`, server };
  const camera = ipPortEndpoint(reply.fields.dev ?? reply.fields.dmap);
  const sid = reply.fields.sid ?? (reply.fields.ac >= 0 ? reply.fields.ac : undefined);
  return { accept: { kind: "woken", reply: "R2C_C_R", camera, sid } };
}

/** The outcome of a step that got no usable reply: timeout (no reply) or unusable. */
function stepFailure(
  context: { uid: string; step: WakeStep; asked: string[]; server?: string; elapsedMs: number },
  result: ExchangeResult<unknown>,
): WakeOutcome {
  const { uid, step, elapsedMs } = context;
  if (result.reply === undefined || !("unusable" in result.reply)) {
    const { attempts, ignored, sendError } = result;
    const { asked, server } = context;
    return { result: "timeout", uid, step, asked, attempts, ignored, sendError, server, elapsedMs };
  }
  const { from, server, unusable: reason } = result.reply;
  return { result: "unusable", uid, step, from: formatAddress(from), server, reason, elapsedMs };
}

/**
 * Wakes the camera `request.uid` through the first of `request.servers` to answer:
 * `C2M_Q` to every middleman (resent every 500 ms) until an `M2C_Q_R` names the register,
 * then `C2R_C` to that register (resent every second) until `R2C_C_R` or `R2C_T`.
 * Replies are matched by tid; undecodable datagrams and other tids are ignored.
 * Throws ServerAddressError only when no server name resolves.
 */
export async function wakeCamera(
  request: WakeRequest,
  deps: WakeClientDeps = {},
): Promise<WakeOutcome> {
  const clock = deps.clock ?? systemClock;
  const randomU32 = deps.randomU32 ?? defaultRandomU32;
  const start = clock.now();
  const deadline = start + request.timeoutMs;
  const elapsed = () => clock.now() - start;
  const { uid } = request;
  const platform = request.clientPlatform ?? DEFAULT_CLIENT_PLATFORM;
  const targets = await resolveTargets(
    request.servers,
    deps.resolveHost ?? systemResolveHost,
    randomU32,
  );
  const socket = await (deps.openSocket ?? openDgramSocket)();
  try {
    const query = targets.map((target) => ({
      bytes: encodeDiscovery(message("C2M_Q", { uid, p: platform }), target.tid),
      to: target.endpoint,
    }));
    const middleman = await exchange(
      socket,
      clock,
      query,
      request.middlemanResendMs ?? MIDDLEMAN_RESEND_MS,
      deadline,
      (packet) => judgeMiddlemanReply(targets, packet),
    );
    if (middleman.reply === undefined || "unusable" in middleman.reply) {
      const asked = targets.map(describeTarget);
      return stepFailure({ uid, step: "middleman", asked, elapsedMs: elapsed() }, middleman);
    }
    const { target, register } = middleman.reply.value;
    const server = target.label;
    const ours = { tid: randomU32(), cid: randomU32() | 0, server };
    const cliAddress = await localAddressFor(register.ip, {
      routeSource: deps.routeSource,
      interfaces: deps.interfaces,
    });
    const connect = message("C2R_C", {
      uid,
      cli: { ip: cliAddress, port: socket.localPort },
      relay: register,
      cid: ours.cid,
      debug: 0,
      family: 4,
      p: platform,
      r: 3,
    });
    const wake = await exchange(
      socket,
      clock,
      [{ bytes: encodeDiscovery(connect, ours.tid), to: register }],
      request.registerResendMs ?? REGISTER_RESEND_MS,
      deadline,
      (packet) => judgeRegisterReply(ours, packet),
    );
    if (wake.reply === undefined || "unusable" in wake.reply) {
      const asked = [formatAddress(register)];
      return stepFailure({ uid, step: "register", asked, server, elapsedMs: elapsed() }, wake);
    }
    const answer = wake.reply.value;
    if (answer.kind === "not_registered") {
      return {
        result: "not_registered",
        uid,
        server,
        register,
        rsp: answer.rsp,
        elapsedMs: elapsed(),
      };
    }
    const { camera, sid, reply } = answer;
    return { result: "woken", uid, server, register, camera, sid, reply, elapsedMs: elapsed() };
  } finally {
    await socket.close();
  }
}
