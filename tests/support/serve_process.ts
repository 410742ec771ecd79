/**
 * Runs the real `bairelay serve` (main.ts) as a long-lived subprocess for tests: waits (bounded)
 * for its "ready" log line, collects stderr, stops it with a signal and reports how long the
 * shutdown took. Also picks free loopback addresses and ports for it.
 */

import dgram from "node:dgram";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** A random address in 127.0.0.0/8 (avoiding .0 and .255), so parallel test runs do not meet. */
export function randomLoopback(): string {
  const byte = () => 1 + Math.floor(Math.random() * 254);
  return `127.${byte()}.${byte()}.${byte()}`;
}

/** A UDP port currently free on `ip` (bound, read, released). */
export async function freeUdpPort(ip: string): Promise<number> {
  const socket = dgram.createSocket("udp4");
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(0, ip, () => resolve());
  });
  const port = socket.address().port;
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** A TCP port currently free on `ip`. */
export function freeTcpPort(ip: string): number {
  const listener = Deno.listen({ hostname: ip, port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Free ports for one `serve`: two distinct UDP ports and an API port on `ip`. */
export async function freeServePorts(ip: string) {
  const middleman = await freeUdpPort(ip);
  let register = await freeUdpPort(ip);
  while (register === middleman) register = await freeUdpPort(ip);
  return { middleman, register, api: freeTcpPort(ip) };
}

/**
 * `serve`'s address flags on `ip` for `ports` (from freeServePorts): bind, the two UDP ports
 * and the API (`ip:ports.api` unless `api` says otherwise, e.g. "off").
 */
export function serveAddressArgs(
  ip: string,
  ports: { middleman: number; register: number; api: number },
  api = `${ip}:${ports.api}`,
): string[] {
  return [
    ...["--bind", ip, "--middleman-port", String(ports.middleman)],
    ...["--register-port", String(ports.register), "--api", api],
  ];
}

/** A running `bairelay serve`. */
export class ServeProcess {
  private stderrText = "";
  private readonly done: Promise<Deno.CommandStatus>;
  private readonly reading: Promise<void>;
  private readonly waiters: { pattern: RegExp; resolve: () => void }[] = [];

  private constructor(private readonly child: Deno.ChildProcess) {
    this.done = child.status;
    this.reading = this.readStderr();
  }

  /**
   * Starts `bairelay serve <args>` (stdout and stdin closed), with every permission unless
   * `permissions` lists the flags to run it with. `as.wrapper` goes before the command (e.g.
   * `setpriv ...` to run it as another user) and `as.main` replaces this checkout's main.ts
   * (a copy that user can read).
   */
  static start(
    args: string[],
    env: Record<string, string> = {},
    permissions = ["--allow-all"],
    as: { wrapper?: string[]; main?: string } = {},
  ): ServeProcess {
    const main = as.main ?? MAIN;
    const command = [...as.wrapper ?? [], Deno.execPath(), "run", ...permissions, "--quiet", main];
    return ServeProcess.spawn([...command, "serve", ...args], { NO_COLOR: "1", ...env });
  }

  /**
   * Starts any command line that runs `serve` (a unit's ExecStart, a container's entrypoint),
   * stdout and stdin closed, `env` added to this process's environment.
   */
  static spawn(command: string[], env: Record<string, string> = {}): ServeProcess {
    const child = new Deno.Command(command[0], {
      args: command.slice(1),
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      env,
    }).spawn();
    return new ServeProcess(child);
  }

  /** Everything written to stderr so far. */
  get stderr(): string {
    return this.stderrText;
  }

  private async readStderr(): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of this.child.stderr) {
      this.stderrText += decoder.decode(chunk, { stream: true });
      for (const waiter of [...this.waiters]) {
        if (waiter.pattern.test(this.stderrText)) {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
    }
  }

  /** Waits until stderr matches `pattern`; fails with the stderr so far after `timeoutMs`. */
  async waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<void> {
    if (pattern.test(this.stderrText)) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let waiter: { pattern: RegExp; resolve: () => void } | undefined;
    try {
      await Promise.race([
        new Promise<void>((resolve) => {
          waiter = { pattern, resolve };
          this.waiters.push(waiter);
        }),
        this.done.then((status) => {
          throw new Error(
            `serve exited (code ${status.code}) before printing ${pattern}:\n${this.stderrText}`,
          );
        }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${this.stderrText}`)),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
      const index = waiter ? this.waiters.indexOf(waiter) : -1;
      if (index >= 0) this.waiters.splice(index, 1);
    }
  }

  /** Waits for the startup line ("bairelay serve ready"). */
  ready(): Promise<void> {
    return this.waitFor(/bairelay serve ready/);
  }

  /** Sends `signal` without waiting for anything (a no-op once the process has exited). */
  signal(signal: Deno.Signal): void {
    try {
      this.child.kill(signal);
    } catch { /* already exited */ }
  }

  /** Sends `signal` and waits (bounded) for the exit; returns the code and the time taken. */
  async stop(signal: Deno.Signal = "SIGTERM", timeoutMs = 10_000) {
    const start = performance.now();
    try {
      this.child.kill(signal);
    } catch { /* already exited */ }
    const status = await this.exit(timeoutMs);
    return { code: status.code, ms: performance.now() - start };
  }

  /** Waits (bounded; SIGKILL after `timeoutMs`) for the process to end on its own. */
  async exit(timeoutMs = 20_000): Promise<Deno.CommandStatus> {
    const timer = setTimeout(() => {
      try {
        this.child.kill("SIGKILL");
      } catch { /* already exited */ }
    }, timeoutMs);
    try {
      const status = await this.done;
      await this.reading;
      return status;
    } finally {
      clearTimeout(timer);
    }
  }
}
