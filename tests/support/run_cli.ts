/** Runs the real `main.ts` in a subprocess, the way a user runs `bairelay`. */

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** What a CLI run printed and how it ended. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  stdoutBytes: Uint8Array;
}

/** Options for `runCli`. */
export interface RunCliOptions {
  /** Bytes or text fed to stdin (stdin is closed either way). */
  stdin?: string | Uint8Array;
  /** Working directory. */
  cwd?: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Kill the process after this many milliseconds (default 30 s). */
  timeoutMs?: number;
  /** Deno permission flags (default `--allow-all`). */
  permissions?: string[];
  /** Words before the command, e.g. `setpriv ...` to run it as another user. */
  wrapper?: string[];
  /** The main.ts to run (default this checkout's), e.g. a copy another user can read. */
  main?: string;
}

/**
 * Runs `bairelay <args>` (via `deno run -A main.ts`, or as `options` say) and collects its
 * output and exit code.
 */
export async function runCli(args: string[], options: RunCliOptions = {}): Promise<CliResult> {
  const [program, ...words] = [
    ...options.wrapper ?? [],
    Deno.execPath(),
    ...["run", ...options.permissions ?? ["--allow-all"], "--quiet", options.main ?? MAIN],
  ];
  const command = new Deno.Command(program, {
    args: [...words, ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    cwd: options.cwd,
    env: { NO_COLOR: "1", ...options.env },
  });
  const child = command.spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* already exited */ }
  }, options.timeoutMs ?? 30_000);
  const writer = child.stdin.getWriter();
  if (options.stdin !== undefined) {
    const bytes = typeof options.stdin === "string"
      ? new TextEncoder().encode(options.stdin)
      : options.stdin;
    await writer.write(bytes).catch(() => {});
  }
  await writer.close().catch(() => {});
  const output = await child.output();
  clearTimeout(timer);
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
    stdoutBytes: output.stdout,
  };
}

/** Every subcommand the help lists, in its order (the tests walk each one). */
export const SUBCOMMANDS = [
  "serve",
  "decode",
  "encode",
  "wake",
  "registry",
  "history",
  "doctor",
  "pcap-replay",
];
