/** Readings every benchmark takes: a process's resident memory and percentiles of samples. */

/**
 * The environment a measured `deno run` child gets: no update check. `deno run` checks for a
 * newer Deno in the background (an HTTPS client, ~2 MB of resident memory); the compiled
 * binary has no such check, and neither has `scripts/deno`, the container or the add-on.
 */
export const MEASURED_CHILD_ENV = { DENO_NO_UPDATE_CHECK: "1" };

/** The resident set size of process `pid` in MiB (VmRSS from Linux /proc). */
export function rssMiB(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kib = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1] ?? NaN);
  return kib / 1024;
}

/**
 * The `p`-th percentile (0..100) of `values`: the sorted value at index floor(n * p / 100),
 * one rank above nearest-rank when n * p / 100 is whole (the conservative side).
 */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p / 100))];
}

/** CPU time (user + system) process `pid` has used so far, in seconds (Linux /proc). */
export function cpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks
}
