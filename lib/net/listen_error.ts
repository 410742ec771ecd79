/**
 * Why a listener could not be opened, and what to do about it: one error class for every
 * listener, and one table from the system's refusal (an errno-like code) to the cause and
 * the remedy a user reads. Each listener words its failure as its users came to know it, so
 * the table holds one voice per listener: how its message is put together, and its cause
 * and remedy per code.
 */

import { formatListen } from "./listen_address.ts";

/** Where a listener failed to open. */
export interface ListenSite {
  /** The listener as the message names it: "middleman", "push", "api (HTTP, TCP)", ... */
  listener: string;
  host: string;
  port: number;
  /** An address of this box to suggest instead of `host` (the DNS responder's LAN address). */
  suggestedHost?: string;
}

/** Why a listen failed, and what to do about it (no remedy when nothing better is known). */
export interface ListenExplanation {
  reason: string;
  remedy?: string;
}

/** What the system said: an errno-like code when one is known, and its own message. */
export interface ListenRefusal {
  code: string | undefined;
  message: string;
}

/** A listener could not be opened: which one, where, why, and what to do about it. */
export class ListenError extends Error {
  readonly listener: string;
  readonly address: string;
  readonly port: number;
  /** Errno-like: EADDRINUSE, EACCES, EADDRNOTAVAIL, NO_TOKEN, ...; UNKNOWN when none is known. */
  readonly code: string;
  /** Why, in words (named `reason`: `Error.cause` is the underlying error by convention). */
  readonly reason: string;
  readonly remedy: string | undefined;

  constructor(site: ListenSite, code: string, explanation: ListenExplanation, message: string) {
    super(message);
    this.name = "ListenError";
    this.listener = site.listener;
    this.address = site.host;
    this.port = site.port;
    this.code = code;
    this.reason = explanation.reason;
    this.remedy = explanation.remedy;
  }
}

type Explain = (site: ListenSite, refusal: ListenRefusal) => ListenExplanation;

/** How one listener words its failures. */
interface Voice {
  /** The whole message, from the site and the explanation. */
  say(site: ListenSite, explanation: ListenExplanation): string;
  /** Reason and remedy per errno-like code. */
  causes: Readonly<Record<string, Explain>>;
  /** Reason and remedy for a code not in `causes`. */
  otherwise: Explain;
}

/** systemd-resolved's stub listener address. */
export const RESOLVED_STUB = "127.0.0.53";
/** The LAN address suggested when this box's own is not known. */
const EXAMPLE_LAN_ADDRESS = "192.168.1.10";

/** The system's own words, with no remedy. */
const SYSTEM_WORDS: Explain = (_site, refusal) => ({ reason: refusal.message });

const WAKE_PRIVILEGE: Explain = () => ({
  reason: "permission denied",
  remedy: "run with CAP_NET_BIND_SERVICE, e.g. AmbientCapabilities=CAP_NET_BIND_SERVICE, " +
    "or choose a port above 1023",
});

const API_PRIVILEGE_REASON = "permission denied (ports below 1024 need root or " +
  "CAP_NET_BIND_SERVICE, e.g. `setcap cap_net_bind_service=+ep bairelay` or systemd " +
  "AmbientCapabilities=CAP_NET_BIND_SERVICE)";

/** The API's causes, which the DNS responder shares but for the privilege remedy. */
const API_CAUSES: Readonly<Record<string, Explain>> = {
  EADDRINUSE: (site) => ({
    reason: `port ${site.port} is already in use (another bairelay? see ` +
      `\`ss -lntup | grep ${site.port}\`)`,
    remedy: "stop that program or choose another port",
  }),
  EACCES: () => ({ reason: API_PRIVILEGE_REASON, remedy: "or choose another port" }),
  EADDRNOTAVAIL: (site) => ({
    reason: `${site.host} is not an address of this machine`,
    remedy: "use one of its addresses or 0.0.0.0",
  }),
};

/** "cannot listen on 127.0.0.1:8080 for the api (HTTP, TCP): reason; remedy". */
function sayCannotListen(site: ListenSite, explanation: ListenExplanation): string {
  const remedy = explanation.remedy === undefined ? "" : `; ${explanation.remedy}`;
  return `cannot listen on ${formatListen(site)} for the ${site.listener}: ` +
    `${explanation.reason}${remedy}`;
}

/** Every listener's voice. */
export const LISTEN_VOICES = {
  /** The wake server's UDP listeners (middleman, register). */
  wake: {
    say: (site, explanation) =>
      `cannot bind the ${site.listener} listener on udp ${site.host}:${site.port}: ` +
      explanation.reason + (explanation.remedy === undefined ? "" : ` (${explanation.remedy})`),
    causes: {
      EADDRINUSE: (site) => ({
        reason: `port ${site.port} is already in use`,
        remedy: `stop the other program or choose another ${site.listener} port`,
      }),
      EACCES: WAKE_PRIVILEGE,
      EPERM: WAKE_PRIVILEGE,
      EADDRNOTAVAIL: (site) => ({
        reason: `${site.host} is not an address of this machine`,
        remedy: "use 0.0.0.0 or one of its addresses",
      }),
    },
    otherwise: (_site, refusal) => ({ reason: refusal.code ?? refusal.message }),
  },
  /** The push listener (TCP 443): the system's own words, then the remedy. */
  push: {
    say: (site, explanation) =>
      `push listener cannot bind TCP ${site.host}:${site.port}: ${explanation.reason}. ` +
      explanation.remedy,
    causes: {
      EACCES: (site, refusal) => ({
        reason: refusal.message,
        remedy: "Ports below 1024 need root or CAP_NET_BIND_SERVICE (e.g. `setcap " +
          "cap_net_bind_service=+ep` on the executable, or AmbientCapabilities=" +
          "CAP_NET_BIND_SERVICE in the systemd unit), or set [push_listener] port / " +
          `--push-port to an unprivileged port and redirect ${site.port} to it with ` +
          "iptables/nft",
      }),
      EADDRINUSE: (site, refusal) => ({
        reason: refusal.message,
        remedy: `Another program already listens on port ${site.port} (find it with ` +
          "`ss -ltnp`); stop it, or choose another [push_listener] port / --push-port, or " +
          "disable the push listener with --no-push",
      }),
      EADDRNOTAVAIL: (_site, refusal) => ({
        reason: refusal.message,
        remedy: "The address is not one of this machine's; fix [push_listener] bind (or the " +
          "top-level bind)",
      }),
    },
    otherwise: (_site, refusal) => ({
      reason: refusal.message,
      remedy: "Check [push_listener] bind and port",
    }),
  },
  /** The control API. */
  api: {
    say: sayCannotListen,
    causes: API_CAUSES,
    otherwise: SYSTEM_WORDS,
  },
  /** The DNS responder (UDP and TCP): cameras always ask port 53, so a redirect is the way. */
  dns: {
    say: sayCannotListen,
    causes: {
      ...API_CAUSES,
      EACCES: (site) => ({
        reason: API_PRIVILEGE_REASON,
        remedy: "or choose another port with [dns] port or --dns-port, and redirect UDP and " +
          `TCP port ${site.port} to it (nft/iptables): cameras always ask port 53`,
      }),
    },
    otherwise: SYSTEM_WORDS,
  },
  /** The DNS responder's port is taken by systemd-resolved's stub listener (127.0.0.53). */
  dnsResolvedStub: {
    say: (site, explanation) =>
      `cannot listen on ${site.host}:${site.port} for the DNS responder: ` +
      `${explanation.reason}. ${explanation.remedy}`,
    causes: {
      EADDRINUSE: (site) => ({
        reason: `systemd-resolved's stub listener holds ${RESOLVED_STUB}:${site.port}`,
        remedy: "Bind the responder to this box's LAN address instead ([dns] bind = " +
          `"${site.suggestedHost ?? EXAMPLE_LAN_ADDRESS}"), or turn the stub listener off ` +
          "(DNSStubListener=no in /etc/systemd/resolved.conf, then restart systemd-resolved)",
      }),
    },
    otherwise: SYSTEM_WORDS,
  },
} as const satisfies Record<string, Voice>;

/** Which listener speaks. */
export type ListenVoice = keyof typeof LISTEN_VOICES;

/** The errno-like code of a bind failure: Deno's error classes first, else its `code`. */
export function refusalOf(error: unknown): ListenRefusal {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof Deno.errors.AddrInUse) return { code: "EADDRINUSE", message };
  if (error instanceof Deno.errors.PermissionDenied) return { code: "EACCES", message };
  if (error instanceof Deno.errors.AddrNotAvailable) return { code: "EADDRNOTAVAIL", message };
  const code = (error as { code?: unknown } | null)?.code;
  return { code: typeof code === "string" ? code : undefined, message };
}

/** Turns a bind failure into a `ListenError` in `voice`'s words, reason and remedy spelled out. */
export function listenError(voice: ListenVoice, site: ListenSite, error: unknown): ListenError {
  const refusal = refusalOf(error);
  const { say, causes, otherwise }: Voice = LISTEN_VOICES[voice];
  const code = refusal.code;
  // Own keys only: a code such as "toString" must not find Object.prototype's.
  const explain = code !== undefined && Object.hasOwn(causes, code) ? causes[code] : otherwise;
  const explanation = explain(site, refusal);
  return new ListenError(site, code ?? "UNKNOWN", explanation, say(site, explanation));
}
