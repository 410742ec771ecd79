/**
 * The flags of a deno.json task (`serve`, `compile`): permissions, V8 flags and the rest, without
 * `deno run`/`deno compile`, `--output FILE`, the entry point and its arguments. deno.json's
 * tasks are the single source of the flags `serve` runs with; the container image (Dockerfile),
 * scripts/release and the tests read them here instead of keeping lists of their own.
 *
 * Usage: deno run --allow-read scripts/task_flags.ts TASK [--bundled]   (prints them on one line;
 * --bundled: for the release's bundle, which runs without deno.json, see `bundledRunFlags`)
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

/**
 * The flags of `task` for running the release's bundle (scripts/release_app.ts), which has no
 * deno.json beside it: the task's flags, deno.json's `unstable` features as `--unstable-NAME`
 * flags, and `--no-config --no-lock` so that no deno.json or lock file found around the tree is
 * read.
 */
export function bundledRunFlags(denoJson: string, task: string): string[] {
  const unstable: unknown = JSON.parse(denoJson).unstable ?? [];
  if (!Array.isArray(unstable) || unstable.some((name) => typeof name !== "string")) {
    throw new Error('deno.json: "unstable" is not a list of names');
  }
  return [
    ...taskFlags(denoJson, task),
    ...unstable.map((name) => `--unstable-${name}`),
    "--no-config",
    "--no-lock",
  ];
}

if (import.meta.main) {
  const text = Deno.readTextFileSync(new URL("../deno.json", import.meta.url));
  const task = Deno.args[0] ?? "serve";
  const flags = Deno.args.includes("--bundled")
    ? bundledRunFlags(text, task)
    : taskFlags(text, task);
  console.log(flags.join(" "));
}
