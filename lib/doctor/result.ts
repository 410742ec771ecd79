/** What one `doctor` check concluded, as plain data (printed as a line, or as one JSON object). */

/** ok: nothing to do; warning: works, but something is missing; problem: must be fixed. */
export type Verdict = "ok" | "warning" | "problem";

/** The part of the set-up a check looks at. */
export type CheckGroup = "dns" | "serve" | "cameras" | "box";

/** One conclusion. */
export interface CheckResult {
  group: CheckGroup;
  /** Stable identifier, e.g. "dns.flag.192.168.1.1:53", "serve.listener.push", "camera.garden". */
  id: string;
  verdict: Verdict;
  /** One line: what was found. */
  summary: string;
  /** Further lines (e.g. which names got which answer). */
  details: string[];
  /** What to do about a warning or a problem; null when there is nothing to do. */
  remedy: string | null;
}

/** Builds a result (details empty, remedy null unless given). */
export function result(
  group: CheckGroup,
  id: string,
  verdict: Verdict,
  summary: string,
  extra: { details?: string[]; remedy?: string | null } = {},
): CheckResult {
  return {
    group,
    id,
    verdict,
    summary,
    details: extra.details ?? [],
    remedy: extra.remedy ?? null,
  };
}
