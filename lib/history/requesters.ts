/**
 * Who asked for a wake. A battery camera pays for every wake, so each one is attributed:
 * a client's C2R_C (by its address), the API (by the caller's address), MQTT, motion, or the
 * CLI. Addresses named in `[[clients]]` are shown by name.
 */

/** The kinds of requester, as they appear in the history, the API and the metrics. */
export const REQUESTER_KINDS = ["client", "api", "mqtt", "motion", "cli"] as const;
/** A kind of requester. */
export type RequesterKind = typeof REQUESTER_KINDS[number];

/** One requester of a wake: its kind and, for clients and API callers, its address. */
export interface Requester {
  kind: RequesterKind;
  /** The source IP address (client and API); absent for MQTT and motion. */
  address?: string;
}

/** A client the operator named in `[[clients]]`. */
export interface NamedClient {
  name: string;
  address: string;
}

/**
 * How requesters are shown: a named client by its name, another address as itself, a
 * requester without an address by its kind ("mqtt", "motion").
 */
export class RequesterNames {
  private readonly byAddress: Map<string, string>;

  constructor(clients: readonly NamedClient[] = []) {
    this.byAddress = new Map(clients.map((client) => [client.address, client.name]));
  }

  /** The label shown for `requester`. */
  label(requester: Requester): string {
    if (requester.address === undefined) return requester.kind;
    return this.byAddress.get(requester.address) ?? requester.address;
  }

  /** True when `requester`'s address was named in the config (then it may be a metric label). */
  isNamed(requester: Requester): boolean {
    return requester.address !== undefined && this.byAddress.has(requester.address);
  }
}
