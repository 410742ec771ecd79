/**
 * `bairelay doctor` as an ordinary user against `serve` run as that user on its defaults: the
 * push listener is disabled for lack of privilege, and doctor says so (serve's listener and this
 * box's privilege for 443), with the remedies, as warnings: exit 0.
 */

import assert from "node:assert/strict";
import { runCli } from "./support/run_cli.ts";
import {
  freeServePorts,
  randomLoopback,
  serveAddressArgs,
  ServeProcess,
} from "./support/serve_process.ts";
import { AS_NOBODY_SKIP_REASON, asNobody, readableProgram } from "./support/unprivileged.ts";

/** Binding 443 as nobody must fail for this test to mean anything. */
const PRIVILEGED_PORTS_SKIP_REASON = (() => {
  const start = Number(Deno.readTextFileSync("/proc/sys/net/ipv4/ip_unprivileged_port_start"));
  return start <= 443
    ? `net.ipv4.ip_unprivileged_port_start is ${start}: any user may bind 443 here`
    : undefined;
})();

const skip = AS_NOBODY_SKIP_REASON ?? PRIVILEGED_PORTS_SKIP_REASON;

Deno.test({
  name: "doctor as nobody: the push listener disabled and no privilege for 443 are warnings",
  ignore: skip !== undefined,
  fn: async () => {
    const ip = randomLoopback();
    const ports = await freeServePorts(ip);
    const stateDir = await Deno.makeTempDir({ prefix: "bairelay-doctor-nobody-" });
    await Deno.chmod(stateDir, 0o777);
    const program = await readableProgram();
    const env = { DENO_DIR: program.denoDir, HOME: stateDir, NO_COLOR: "1" };
    const serve = ServeProcess.start(
      [
        ...serveAddressArgs(ip, ports),
        ...["--state-dir", stateDir],
      ],
      env,
      ["--allow-all"],
      { wrapper: asNobody([]), main: program.main },
    );
    try {
      await serve.ready();
      const run = await runCli(
        ["doctor", "--no-system-dns", "--api", `${ip}:${ports.api}`],
        { env, wrapper: asNobody([]), main: program.main },
      );
      const stdout = run.stdout;
      assert.equal(run.code, 0, run.stderr + stdout);
      assert.match(
        stdout,
        /\n {2}warning {2}listener push \(tcp\) disabled: no permission for port 443\n {11}fix: Motion events are off\. .*CAP_NET_BIND_SERVICE/,
      );
      assert.match(
        stdout,
        /\n {2}warning {2}port 443: uid \d+ may not bind it \(not root, no CAP_NET_BIND_SERVICE/,
      );
      assert.match(
        stdout,
        /may not bind it[^]*?\n {11}fix: As for serve's push listener above\.\n/,
      );
      assert.match(stdout, /\n {2}ok {7}UDP \d+ \(middleman\): held by serve/);
      assert.match(stdout, /\n0 problems, \d+ warnings, \d+ ok\n$/);

      if (Deno.uid() === 0) {
        // The same user with CAP_NET_BIND_SERVICE in its ambient set may bind 443.
        const capable = await runCli(
          ["doctor", "--no-system-dns", "--api", `${ip}:${ports.api}`],
          {
            env,
            main: program.main,
            wrapper: [
              ...["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"],
              ...["--inh-caps=+net_bind_service", "--ambient-caps=+net_bind_service", "--"],
            ],
          },
        );
        assert.match(
          capable.stdout,
          /\n {2}ok {7}port 443: CAP_NET_BIND_SERVICE in the effective and ambient sets/,
        );
      }
    } finally {
      await serve.stop();
      await Deno.remove(stateDir, { recursive: true });
      await program.remove();
    }
  },
});
