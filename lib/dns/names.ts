/**
 * Which host names the DNS responder answers itself: a table of patterns, each a host name
 * whose labels may hold `*` (any run of characters within that one label, never a dot).
 * `p2p*.reolink.com` matches `p2p.reolink.com` and `p2p7.reolink.com`, not `a.p2p.reolink.com`.
 * Matching ignores case and a trailing dot.
 */

/** The Reolink cloud names a camera looks up (see lib/reolink_hosts.ts for the full list). */
export const DEFAULT_NAMES: readonly string[] = [
  "p2p.reolink.com",
  "p2p*.reolink.com",
  "pushx.reolink.com",
];

/** Longest host name (RFC 1035: 255 bytes on the wire, 253 characters written out). */
const MAX_NAME_CHARS = 253;
/** Longest label (RFC 1035). */
const MAX_LABEL_CHARS = 63;
const LABEL = /^[A-Za-z0-9_*-]+$/;

/** Why `pattern` is not a usable name pattern, or null when it is. */
export function namePatternProblem(pattern: string): string | null {
  const name = pattern.endsWith(".") ? pattern.slice(0, -1) : pattern;
  if (name === "") return "must not be empty";
  if (name.length > MAX_NAME_CHARS) return `must be at most ${MAX_NAME_CHARS} characters`;
  for (const label of name.split(".")) {
    if (label === "") return "must not hold an empty label (two dots in a row)";
    if (label.length > MAX_LABEL_CHARS) {
      return `labels must be at most ${MAX_LABEL_CHARS} characters`;
    }
    if (!LABEL.test(label)) return "labels may hold letters, digits, '-', '_' and '*' only";
  }
  return null;
}

/** Tells whether a queried name is one of the patterns. */
export class NameMatcher {
  private readonly exact = new Set<string>();
  private readonly wildcards: RegExp[] = [];

  /** `patterns` must pass `namePatternProblem` (RangeError otherwise). */
  constructor(patterns: readonly string[]) {
    for (const pattern of patterns) {
      const problem = namePatternProblem(pattern);
      if (problem !== null) throw new RangeError(`name pattern ${pattern}: ${problem}`);
      const name = canonical(pattern);
      if (!name.includes("*")) {
        this.exact.add(name);
        continue;
      }
      const labels = name.split(".").map((label) =>
        label.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\-]/g, "\\$&")).join(
          "[^.]*",
        )
      );
      this.wildcards.push(new RegExp(`^${labels.join("\\.")}$`));
    }
  }

  /** True when `name` (as asked, any case, with or without the trailing dot) matches. */
  matches(name: string): boolean {
    const wanted = canonical(name);
    return this.exact.has(wanted) || this.wildcards.some((pattern) => pattern.test(wanted));
  }
}

function canonical(name: string): string {
  return (name.endsWith(".") ? name.slice(0, -1) : name).toLowerCase();
}
