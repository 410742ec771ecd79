/**
 * Comparing a server's answer with the answer a capture holds: same variant, same fields
 * present, plain values equal, addresses by presence only, and session-random values
 * (token, ac, sid, time_t) by type, plus consistency with what the same server said earlier
 * (once captured sid 7 was answered as sid 42, every later captured 7 must read 42).
 */

import type { Message } from "../bcudp/mod.ts";

/** Fields a server draws at random per session: compared by type and consistency. */
export const SESSION_RANDOM_FIELDS = new Set(["token", "ac", "sid", "time_t"]);
/** Session-random fields that later requests echo, so a replay must feed the target's back. */
export const ECHOED_RANDOM_FIELDS = new Set(["token", "ac", "sid"]);

/**
 * Captured value -> value the target used instead, per field name ("sid:7" -> "42").
 * Filled while comparing answers; read when rewriting later requests.
 */
export class SessionValues {
  #map = new Map<string, string>();

  /** The target's value for the captured `value` of `field`, if learnt. */
  get(field: string, value: string): string | undefined {
    return this.#map.get(`${field}:${value}`);
  }

  /** Records (or checks) the correspondence; returns the earlier target value on a conflict. */
  learn(field: string, captured: string, replayed: string): string | undefined {
    const key = `${field}:${captured}`;
    const known = this.#map.get(key);
    if (known === undefined) this.#map.set(key, replayed);
    return known !== undefined && known !== replayed ? known : undefined;
  }
}

function isIpPort(value: unknown): boolean {
  return typeof value === "object" && value !== null && "ip" in value && "port" in value;
}

function compareFields(
  captured: Record<string, unknown>,
  replayed: Record<string, unknown>,
  path: string,
  session: SessionValues,
  problems: string[],
): void {
  for (const name of Object.keys(captured)) {
    if (!(name in replayed)) problems.push(`${path}${name} is missing (captured: present)`);
  }
  for (const name of Object.keys(replayed)) {
    if (!(name in captured)) problems.push(`${path}${name} is present (captured: absent)`);
  }
  for (const [name, want] of Object.entries(captured)) {
    if (!(name in replayed)) continue;
    const got = replayed[name];
    const where = path + name;
    if (isIpPort(want) || isIpPort(got)) continue;
    if (typeof want === "object" && typeof got === "object" && want !== null && got !== null) {
      compareFields(
        want as Record<string, unknown>,
        got as Record<string, unknown>,
        where + ".",
        session,
        problems,
      );
    } else if (typeof want !== typeof got) {
      problems.push(`${where} is a ${typeof got}, captured a ${typeof want}`);
    } else if (SESSION_RANDOM_FIELDS.has(name)) {
      if (!ECHOED_RANDOM_FIELDS.has(name)) continue;
      const earlier = session.learn(name, String(want), String(got));
      if (earlier !== undefined) {
        problems.push(
          `${where} is ${got}, but the target said ${earlier} where the capture had ${want}`,
        );
      }
    } else if (want !== got) {
      problems.push(`${where} is ${got}, captured ${want}`);
    }
  }
}

/** Differences between a captured answer and the replayed one (empty when it conforms). */
export function compareMessages(
  captured: Message,
  replayed: Message,
  session: SessionValues,
): string[] {
  if (captured.variant !== replayed.variant) {
    return [`answer is ${replayed.variant}, captured ${captured.variant}`];
  }
  const problems: string[] = [];
  compareFields(
    captured.fields as Record<string, unknown>,
    replayed.fields as Record<string, unknown>,
    `${captured.variant}.`,
    session,
    problems,
  );
  return problems;
}
