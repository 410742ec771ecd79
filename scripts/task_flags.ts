/**
 * The flags of a deno.json task (`serve`, `compile`): permissions, V8 flags and the rest, without
 * `deno run`/`deno compile`, `--output FILE`, the entry point and its arguments. deno.json's
 * tasks are the single source of the flags `serve` runs with; the container image (Dockerfile),
 * scripts/release and the tests read them here instead of keeping lists of their own.
 *
 * Usage: deno run --allow-read scripts/task_flags.ts TASK   (prints them on one line)
 */

/** The flags of `task` in the deno.json text `denoJson`; throws when the task is missing. */
export function taskFlags(denoJson: string, task: string): string[] {
  const command = JSON.parse(denoJson).tasks?.[task];
  if (typeof command !== "string") throw new Error(`deno.json has no task "${task}"`);
  const words = command.trim().split(/\s+/).slice(2); // after "deno run" / "deno compile"
  const flags: string[] = [];
  for (let i = 0; i < words.length && words[i].startsWith("-"); i++) {
    if (words[i] === "--output") i++;
    else flags.push(words[i]);
  }
  return flags;
}

if (import.meta.main) {
  const path = new URL("../deno.json", import.meta.url);
  console.log(taskFlags(Deno.readTextFileSync(path), Deno.args[0] ?? "serve").join(" "));
}
