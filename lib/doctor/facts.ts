/**
 * Everything `doctor` looks at, gathered at once and each part within its own time limit: the
 * DNS answers of every resolver asked, what the running `serve` reports (`/healthz`,
 * `/api/status`, `/api/cameras`), and this box's facts. The result is plain data; the checks
 * (checks.ts) only read it.
 */

import {
  ApiClientError,
  type ApiClientOptions,
  checkHealth,
  fetchCameras,
  fetchStatus,
} from "../api/client.ts";
import type { CameraDocument } from "../api/routes.ts";
import type { StatusDocument } from "../api/status.ts";
import { isWildcard } from "../net/ip.ts";
import { formatListen, parseListen } from "../net/listen_address.ts";
import {
  advertisedAddresses,
  type InterfaceAddress,
  type LocalAddressSources,
  systemInterfaces,
} from "../net/local_address.ts";
import { REOLINK_HOSTS } from "../reolink_hosts.ts";
import { type BoxFacts, readBoxFacts, type ReadText, readTextFile, UNKNOWN_BOX } from "./box.ts";
import { DNS_PORT, resolvConfNameservers } from "../dns/upstreams.ts";
import { type DnsOutcome, type DnsServer, queryA } from "./dns_client.ts";

/** Default time limit for one DNS query (`--dns-timeout`). */
export const DEFAULT_DNS_TIMEOUT_MS = 1500;
/** Default time limit for one control-API request (`--timeout`). */
export const DEFAULT_API_TIMEOUT_MS = 2000;
/** Time limit for reading this box's facts from /proc. */
export const BOX_TIMEOUT_MS = 1000;
/** Time limit for asking the routing table which address cameras should be sent to. */
export const ADDRESS_TIMEOUT_MS = 1000;

/** What the configuration (or the defaults) says `serve` uses. */
export interface SetupFacts {
  /** The config file read, or null for the defaults. */
  configSource: string | null;
  middlemanPort: number;
  registerPort: number;
  pushEnabled: boolean;
  pushPort: number;
  /** `receive_buffer_bytes` (0 = not asked for). */
  receiveBufferBytes: number;
}

/** What to gather: the command line, resolved. */
export interface DoctorPlan {
  /** The control API; `url` null when the configuration turns it off (`offReason` says so). */
  api: { url: string | null; token?: string; timeoutMs: number; offReason?: string };
  /** The resolv.conf to take the system resolver from; null: do not ask it. */
  resolvConf: string | null;
  /** Further resolvers to ask (`--dns`). */
  dns: DnsServer[];
  dnsTimeoutMs: number;
  /** Addresses that also count as "here" (`--expect`: serve on another box). */
  expect: string[];
  setup: SetupFacts;
}

/** Where each resolver came from. */
export type ResolverSource = "system" | "flag" | "serve";

/** One resolver's answer for every Reolink host name. */
export interface ResolverAnswers {
  source: ResolverSource;
  /** "192.168.1.1:53". */
  server: string;
  answers: { name: string; outcome: DnsOutcome }[];
}

/** How talking to `serve` went. */
export type ServeReach = "ok" | "off" | "unreachable" | "timeout" | "refused" | "error";

/** What the running `serve` reported. */
export interface ServeFacts {
  /** The API base URL asked, or null when the API is off. */
  url: string | null;
  reach: ServeReach;
  /** Why `reach` is not ok. */
  error: string | null;
  status: StatusDocument | null;
  cameras: CameraDocument[] | null;
}

/** Everything the checks read. */
export interface DoctorFacts {
  /** When the facts were gathered, ms since the epoch. */
  now: number;
  setup: SetupFacts;
  dnsTimeoutMs: number;
  /** Addresses that count as "here": this box's interfaces (loopback always does) and --expect. */
  here: { box: string[]; expected: string[] };
  /** The addresses a remedy tells the user to point the names at. */
  adviseAddresses: string[];
  /** The system resolver's file and how many nameservers it lists; null when not asked. */
  systemResolver: { path: string; servers: number; readable: boolean } | null;
  resolvers: ResolverAnswers[];
  serve: ServeFacts;
  box: BoxFacts;
}

/** The outside world, replaceable where tests need it. */
export interface DoctorDeps {
  now?: () => number;
  readText?: ReadText;
  interfaces?: () => InterfaceAddress[];
  addressSources?: LocalAddressSources;
}

/** `promise`, or `fallback()` when it has not settled within `ms`. */
export async function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  fallback: () => T,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<T>((resolve) => timer = setTimeout(() => resolve(fallback()), ms)),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Asks one resolver for every Reolink host name, all at once. */
export async function askResolver(
  server: DnsServer,
  source: ResolverSource,
  timeoutMs: number,
): Promise<ResolverAnswers> {
  const answers = await Promise.all(REOLINK_HOSTS.map(async (name) => ({
    name,
    outcome: await queryA(server, name, { timeoutMs }),
  })));
  return { source, server: formatListen(server), answers };
}

/**
 * Gathers every fact concurrently, each within its time limit, so the whole run takes about
 * the longest limit (plus one DNS timeout for serve's own DNS responder, asked once
 * `/api/status` has named it) even when every server is silent.
 */
export async function gatherFacts(plan: DoctorPlan, deps: DoctorDeps = {}): Promise<DoctorFacts> {
  const read = deps.readText ?? readTextFile;
  const serveP = askServe(plan.api);
  const resolvConfP = plan.resolvConf === null ? Promise.resolve(null) : read(plan.resolvConf);
  const systemServersP = resolvConfP.then((text) =>
    resolvConfNameservers(text ?? "").map((host): DnsServer => ({ host, port: DNS_PORT }))
  );
  const systemP = systemServersP.then((servers) =>
    Promise.all(servers.map((server) => askResolver(server, "system", plan.dnsTimeoutMs)))
  );
  const flagsP = Promise.all(
    plan.dns.map((server) => askResolver(server, "flag", plan.dnsTimeoutMs)),
  );
  const builtinP = serveP.then(async (serve) => {
    const server = builtinResponder(serve.status);
    if (server === null) return [];
    const asked = [...plan.dns, ...await systemServersP].map(formatListen);
    if (asked.includes(formatListen(server))) return [];
    return [await askResolver(server, "serve", plan.dnsTimeoutMs)];
  });
  const boxP = withTimeout(readBoxFacts(read), BOX_TIMEOUT_MS, () => ({ ...UNKNOWN_BOX }));
  const localAdviceP = withTimeout(
    advertisedAddresses("0.0.0.0", deps.addressSources),
    ADDRESS_TIMEOUT_MS,
    () => [],
  );
  const [serve, resolvConf, system, flags, builtin, box, localAdvice] = await Promise.all([
    serveP,
    resolvConfP,
    systemP,
    flagsP,
    builtinP,
    boxP,
    localAdviceP,
  ]);
  const interfaces = (deps.interfaces ?? systemInterfaces)();
  const served = serve.status?.advertised_addresses ?? [];
  return {
    now: (deps.now ?? Date.now)(),
    setup: plan.setup,
    dnsTimeoutMs: plan.dnsTimeoutMs,
    here: { box: interfaces.map((entry) => entry.address), expected: plan.expect },
    adviseAddresses: plan.expect.length > 0
      ? plan.expect
      : served.length > 0
      ? served
      : localAdvice,
    systemResolver: plan.resolvConf === null ? null : {
      path: plan.resolvConf,
      servers: system.length,
      readable: resolvConf !== null,
    },
    resolvers: [...system, ...flags, ...builtin],
    serve,
    box,
  };
}

/** serve's own DNS responder, when /api/status lists one that is up (a wildcard asked on loopback). */
function builtinResponder(status: StatusDocument | null): DnsServer | null {
  const listener = status?.listeners.find((entry) => entry.name === "dns" && entry.state === "up");
  const bound = listener?.address ? parseListen(listener.address) : null;
  if (!bound) return null;
  if (!isWildcard(bound.host)) return bound;
  return { host: bound.host === "0.0.0.0" ? "127.0.0.1" : "::1", port: bound.port };
}

/** Asks serve's API for its health, status and cameras (all at once, each within the limit). */
async function askServe(api: DoctorPlan["api"]): Promise<ServeFacts> {
  if (api.url === null) {
    return {
      url: null,
      reach: "off",
      error: api.offReason ?? "the control API is off",
      status: null,
      cameras: null,
    };
  }
  const options: ApiClientOptions = { url: api.url, token: api.token, timeoutMs: api.timeoutMs };
  const [health, status, cameras] = await Promise.allSettled([
    checkHealth(options),
    fetchStatus(options),
    fetchCameras(options),
  ]);
  const failure = [health, status, cameras].find((result) => result.status === "rejected");
  if (failure?.status === "rejected") {
    return {
      url: api.url,
      reach: reachOf(failure.reason),
      error: failure.reason instanceof Error ? failure.reason.message : String(failure.reason),
      status: null,
      cameras: null,
    };
  }
  const statusDocument = status.status === "fulfilled" ? status.value : null;
  const camerasDocument = cameras.status === "fulfilled" ? cameras.value : null;
  if (!isStatusDocument(statusDocument) || !Array.isArray(camerasDocument?.cameras)) {
    return {
      url: api.url,
      reach: "error",
      error: "its /api/status or /api/cameras is not what bairelay serve answers",
      status: null,
      cameras: null,
    };
  }
  return {
    url: api.url,
    reach: "ok",
    error: null,
    status: statusDocument,
    cameras: camerasDocument.cameras,
  };
}

/** Whether `value` has the parts of a status document the checks read (an API is outside input). */
function isStatusDocument(value: unknown): value is StatusDocument {
  if (typeof value !== "object" || value === null) return false;
  const document = value as Record<string, unknown>;
  return typeof document.version === "string" && typeof document.uptime_s === "number" &&
    Array.isArray(document.listeners) && Array.isArray(document.receive_buffers) &&
    typeof document.mqtt === "object" && document.mqtt !== null &&
    Array.isArray(document.advertised_addresses);
}

function reachOf(error: unknown): ServeReach {
  if (!(error instanceof ApiClientError)) return "error";
  if (error.kind === "unreachable") return "unreachable";
  if (error.kind === "timeout") return "timeout";
  return error.status === 401 ? "refused" : "error";
}
