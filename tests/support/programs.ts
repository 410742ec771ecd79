/**
 * Finds the programs the tests drive for any user: many live in /usr/sbin or /sbin, which
 * are not on an ordinary user's PATH.
 */

/** Directories searched after PATH. */
const SYSTEM_DIRS = ["/usr/local/sbin", "/usr/sbin", "/sbin"];

/** The absolute path of `name` on PATH or in the system directories, or null. */
export function findProgram(name: string): string | null {
  const path = Deno.env.get("PATH") ?? "";
  for (const dir of [...path.split(":").filter((d) => d !== ""), ...SYSTEM_DIRS]) {
    const candidate = `${dir}/${name}`;
    try {
      const info = Deno.statSync(candidate);
      if (info.isFile && info.mode !== null && (info.mode & 0o111) !== 0) return candidate;
    } catch { /* not there */ }
  }
  return null;
}
