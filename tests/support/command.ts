/** Running a program to its end for the deployment tests: exit code and output. */

/** How a command ended and what it printed. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options for `runCommand`. */
export interface RunCommandOptions {
  /** Bytes fed to stdin (closed either way). */
  stdin?: Uint8Array;
  cwd?: string;
  /** Added to this process's environment. */
  env?: Record<string, string>;
  /** Killed after this many milliseconds (default: never). */
  timeoutMs?: number;
}

/** Runs `command` (program and arguments) and collects its exit code and output. */
export async function runCommand(
  command: string[],
  options: RunCommandOptions = {},
): Promise<CommandResult> {
  const child = new Deno.Command(command[0], {
    args: command.slice(1),
    cwd: options.cwd,
    env: options.env,
    stdin: options.stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
    signal: options.timeoutMs ? AbortSignal.timeout(options.timeoutMs) : undefined,
  }).spawn();
  if (options.stdin) {
    const writer = child.stdin.getWriter();
    await writer.write(options.stdin);
    await writer.close();
  }
  const output = await child.output();
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: text(output.stdout), stderr: text(output.stderr) };
}
