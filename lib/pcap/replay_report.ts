/**
 * What a replay reports: one verdict per exchange and per kind of unsolicited packet, the
 * totals, and the line printed for each verdict.
 */

import type { Role } from "./replay_exchanges.ts";

/** The outcome of one exchange (a request and its answers) or of unsolicited packets. */
export interface Verdict {
  kind: "exchange" | "unsolicited";
  /** Captured time of the request (seconds since the first frame). */
  time: number;
  /** Captured source of the request (or destination of unsolicited packets). */
  peer: string;
  request?: string;
  tid?: number;
  role?: Role;
  expected: string[];
  received: string[];
  conforms: boolean;
  problems: string[];
  notes: string[];
}

/** What a replay found. */
export interface ReplayReport {
  /** Requests replayed (each with its answers). */
  exchanges: number;
  /** Kinds of unsolicited packets checked per peer (e.g. the R2D_C burst to a camera). */
  unsolicited: number;
  /** Verdicts (exchanges and unsolicited kinds) that conform / differ. */
  conforming: number;
  differing: number;
  verdicts: Verdict[];
}

/** One human-readable verdict line. */
export function verdictLine(verdict: Verdict): string {
  const status = verdict.conforms ? "ok  " : "DIFF";
  const time = verdict.time.toFixed(3).padStart(9);
  const notes = verdict.notes.length ? ` [${verdict.notes.join("; ")}]` : "";
  const problems = verdict.problems.length ? `: ${verdict.problems.join("; ")}` : "";
  if (verdict.kind === "unsolicited") {
    const variant = verdict.expected[0] ?? verdict.received[0];
    return `${status} ${time}  ${variant} to ${verdict.peer}: captured ${verdict.expected.length}, ` +
      `received ${verdict.received.length}${problems}`;
  }
  const answers = verdict.received.length ? verdict.received.join(", ") : "no answer";
  const wanted = verdict.expected.length ? verdict.expected.join(", ") : "no answer";
  return `${status} ${time}  ${verdict.peer} ${verdict.request} -> ${verdict.role}: ${answers}` +
    `${answers === wanted ? "" : ` (captured: ${wanted})`}${problems}${notes}`;
}
