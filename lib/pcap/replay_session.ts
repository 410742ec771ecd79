/**
 * Session values in a replay: the target draws its own token, ac and sid, and later requests
 * echo them (D2R_R and D2R_HB carry the token of M2D_Q_R, D2R_C_R the sid of R2D_C, C2R_CFM/C2R_HB
 * the sid of R2C_C_R). Comparing answers records "captured value -> target's value" per field
 * (SessionValues); before a request is sent, every token/ac/sid in it that the captured server
 * had issued is rewritten to the target's value, waiting (up to the reply timeout) for the
 * answer that teaches it. The XML text is edited in place, so a camera's formatting survives.
 */

import { type Message, writeMessage } from "../bcudp/mod.ts";
import { ECHOED_RANDOM_FIELDS, type SessionValues } from "./compare.ts";
import { type CapturedMessage, SERVER_VARIANTS } from "./replay_exchanges.ts";

/** How often a request waiting for a session value looks again. */
const SESSION_POLL_MS = 5;

/** Values of token/ac/sid that the captured server issued (requests echoing them need ours). */
export function issuedValues(messages: CapturedMessage[]): Set<string> {
  const issued = new Set<string>();
  const visit = (fields: Record<string, unknown>) => {
    for (const [name, value] of Object.entries(fields)) {
      if (ECHOED_RANDOM_FIELDS.has(name)) issued.add(`${name}:${value}`);
    }
  };
  for (const message of messages) {
    if (SERVER_VARIANTS.has(message.message.variant)) {
      visit(message.message.fields as Record<string, unknown>);
    }
  }
  return issued;
}

/** Waits `ms` milliseconds (none when negative): replay's pacing and the session-value poll. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** Rewrites the echoed session values of a request to the target's ones. */
export async function substitute(
  request: CapturedMessage,
  issued: Set<string>,
  session: SessionValues,
  timeoutMs: number,
  notes: string[],
): Promise<string> {
  let xml = request.xml;
  const fields = { ...request.message.fields } as Record<string, unknown>;
  let rewritten = true;
  for (const [name, value] of Object.entries(request.message.fields as Record<string, unknown>)) {
    if (!ECHOED_RANDOM_FIELDS.has(name) || !issued.has(`${name}:${value}`)) continue;
    const captured = String(value);
    const deadline = Date.now() + timeoutMs;
    let ours = session.get(name, captured);
    while (ours === undefined && Date.now() < deadline) {
      await sleep(SESSION_POLL_MS);
      ours = session.get(name, captured);
    }
    if (ours === undefined) {
      notes.push(`${name} ${captured}: the target never issued one, sent as captured`);
      continue;
    }
    if (ours !== captured) {
      const element = new RegExp(`<${name}>\\s*${captured}\\s*</${name}>`);
      const edited = xml.replace(element, `<${name}>${ours}</${name}>`);
      rewritten &&= edited !== xml;
      xml = edited;
      fields[name] = typeof value === "bigint" ? BigInt(ours) : Number(ours);
      notes.push(`${name} ${captured} -> ${ours}`);
    }
  }
  // XML the simple edit cannot handle (e.g. an element written twice) is written afresh.
  if (!rewritten) return writeMessage({ ...request.message, fields } as Message);
  return xml;
}
