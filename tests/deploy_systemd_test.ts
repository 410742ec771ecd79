/**
 * deploy/systemd/bairelay.service: `systemd-analyze verify` accepts it without a warning, and its
 * ExecStart command line runs `serve` under the unit's user and capability set as far as that
 * can be reproduced without systemd as PID 1: `setpriv` with a uid of systemd's DynamicUser
 * range, no groups, no_new_privs, and the unit's capabilities as the only ambient, inheritable
 * and bounding ones. It binds 443 on a loopback address, answers a camera's boot and stops on
 * SIGTERM within TimeoutStopSec.
 *
 * The compiled executable cannot be built here (`deno compile` downloads its runtime base), so
 * the unit's executable path is given a wrapper script that runs main.ts with the flags
 * deno.json's compile task builds in, and the config path a temporary file (the rest of the command
 * line is the unit's). Not reproduced: the sandboxing directives (ProtectSystem, the system
 * call and address family filters...), which need systemd itself.
 */

import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { defaultStateDir } from "../lib/wake/config.ts";
import { CameraSim } from "./support/camera_sim.ts";
import { freeServePorts, randomLoopback, ServeProcess } from "./support/serve_process.ts";
import { readableProgram } from "./support/unprivileged.ts";
import { programPath } from "./support/programs.ts";
import { taskFlags } from "../scripts/task_flags.ts";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const UNIT_TEXT = Deno.readTextFileSync(join(ROOT, "deploy/systemd/bairelay.service"));

/** The unit's [Service] settings: key -> every value given (comments skipped). */
function serviceSettings(text: string): Map<string, string[]> {
  const settings = new Map<string, string[]>();
  let section = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = line.match(/^\[(.+)\]$/);
    if (header) section = header[1];
    else if (section === "Service") {
      const [key, ...rest] = line.split("=");
      settings.set(key, [...settings.get(key) ?? [], rest.join("=")]);
    }
  }
  return settings;
}

const UNIT = serviceSettings(UNIT_TEXT);
const one = (key: string) => {
  const values = UNIT.get(key) ?? [];
  assert.equal(values.length, 1, `${key}= once in the unit`);
  return values[0];
};

function available(command: string): boolean {
  try {
    return new Deno.Command(programPath(command), {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    })
      .outputSync().success;
  } catch {
    return false;
  }
}

const VERIFY_SKIP = available("systemd-analyze")
  ? undefined
  : "systemd-analyze is not installed (Debian package systemd)";
const RUN_SKIP = Deno.uid() !== 0
  ? "needs root to switch to another uid with setpriv"
  : available("setpriv")
  ? undefined
  : "setpriv is not installed (Debian package util-linux)";

/**
 * A stand-in for the compiled executable: main.ts with the flags the compile task builds in (the
 * serve task's, which tests/deploy_files_test.ts keeps equal).
 */
async function wrapper(dir: string, main: string, denoDir: string): Promise<string> {
  const path = join(dir, "bairelay");
  const flags = taskFlags(Deno.readTextFileSync(join(ROOT, "deno.json")), "serve").join(" ");
  await Deno.writeTextFile(
    path,
    `#!/bin/sh\nexport DENO_DIR='${denoDir}'\nexec '${Deno.execPath()}' run ${flags} --quiet '${main}' "$@"\n`,
  );
  await Deno.chmod(path, 0o755);
  return path;
}

Deno.test("systemd unit: the settings the README promises", () => {
  assert.equal(one("DynamicUser"), "yes");
  assert.equal(one("StateDirectory"), "bairelay");
  assert.equal(one("AmbientCapabilities"), "CAP_NET_BIND_SERVICE");
  assert.equal(one("CapabilityBoundingSet"), "CAP_NET_BIND_SERVICE");
  for (const key of ["NoNewPrivileges", "ProtectHome", "PrivateTmp"]) assert.equal(one(key), "yes");
  assert.equal(one("ProtectSystem"), "strict");
  assert.equal(one("Restart"), "on-failure");
  assert.equal(one("KillSignal"), "SIGTERM");
  assert.equal(
    one("ExecStart"),
    "/usr/local/bin/bairelay serve --config /etc/bairelay/config.toml",
  );
  const families = one("RestrictAddressFamilies").split(/\s+/);
  for (const family of ["AF_INET", "AF_INET6", "AF_NETLINK", "AF_UNIX"]) {
    assert.ok(families.includes(family), `RestrictAddressFamilies has ${family}`);
  }
  // The unit's environment makes the non-root default state directory the StateDirectory.
  const vars = Object.fromEntries((UNIT.get("Environment") ?? []).map((v) => v.split("=")));
  assert.equal(defaultStateDir({ uid: 61184, vars }), "/var/lib/bairelay");
});

Deno.test({
  name: "systemd unit: systemd-analyze verify passes with the executable present, fails without" +
    (VERIFY_SKIP ? ` [skipped: ${VERIFY_SKIP}]` : ""),
  ignore: VERIFY_SKIP !== undefined,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "bairelay-unit-" });
    try {
      const verify = async (unit: string) => {
        await Deno.writeTextFile(join(dir, "bairelay.service"), unit);
        const output = await new Deno.Command(programPath("systemd-analyze"), {
          args: ["verify", join(dir, "bairelay.service")],
          stdout: "piped",
          stderr: "piped",
        }).output();
        const text = new TextDecoder().decode(output.stderr) +
          new TextDecoder().decode(output.stdout);
        return { ok: output.success, text };
      };
      const missing = await verify(UNIT_TEXT);
      assert.equal(missing.ok, false, "verify must check the executable, or it proves nothing");
      assert.match(missing.text, /\/usr\/local\/bin\/bairelay is not executable/);

      const executable = await wrapper(dir, join(ROOT, "main.ts"), join(dir, "deno"));
      const present = await verify(
        UNIT_TEXT.replace(/^ExecStart=\/usr\/local\/bin\/bairelay /m, `ExecStart=${executable} `),
      );
      assert.equal(present.ok, true, present.text);
      assert.equal(present.text.trim(), "", "no warning (an unknown key is only a warning)");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "systemd unit: ExecStart as a DynamicUser-range uid with only the ambient " +
    "CAP_NET_BIND_SERVICE binds 443, answers a camera, stops on SIGTERM" +
    (RUN_SKIP ? ` [skipped: ${RUN_SKIP}]` : ""),
  ignore: RUN_SKIP !== undefined,
  sanitizeResources: false,
  fn: async () => {
    const program = await readableProgram();
    const dir = await Deno.makeTempDir({ prefix: "bairelay-unit-run-" });
    const uid = 61184 + Math.floor(Math.random() * 4000); // systemd's DynamicUser range
    const ip = randomLoopback();
    const ports = await freeServePorts(ip);
    const stateDir = join(dir, "state"); // StateDirectory: made by systemd, owned by the user
    await Deno.mkdir(stateDir, { mode: 0o700 });
    await Deno.chown(stateDir, uid, uid);
    await Deno.chmod(dir, 0o755);
    const config = join(dir, "config.toml");
    await Deno.writeTextFile(
      config,
      [
        `bind = "${ip}"`,
        `state_dir = "${stateDir}"`,
        `[wake_server]\nmiddleman_port = ${ports.middleman}\nregister_port = ${ports.register}`,
        `[api]\nlisten = "${ip}:${ports.api}"`,
        `[push_listener]\nenable = true\nport = 443`,
      ].join("\n") + "\n",
    );
    await Deno.chmod(config, 0o644);
    const executable = await wrapper(dir, program.main, program.denoDir);
    const [path, ...args] = one("ExecStart").split(" ");
    assert.equal(path, "/usr/local/bin/bairelay");
    const commandLine = [
      executable,
      ...args.map((a) => a === "/etc/bairelay/config.toml" ? config : a),
    ];
    const caps = one("AmbientCapabilities").split(/\s+/)
      .map((cap) => cap.replace(/^CAP_/, "").toLowerCase()).map((cap) => `+${cap}`).join(",");
    const env = (UNIT.get("Environment") ?? []).filter((v) => v.includes("="));
    const serve = ServeProcess.spawn([
      "setpriv",
      ...[`--reuid=${uid}`, `--regid=${uid}`, "--clear-groups", "--no-new-privs"],
      ...[`--inh-caps=-all,${caps}`, `--ambient-caps=-all,${caps}`, `--bounding-set=-all,${caps}`],
      "--",
      ...["env", "-i", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", ...env],
      ...commandLine,
    ]);
    let camera: CameraSim | undefined;
    try {
      await serve.ready();
      assert.match(serve.stderr, new RegExp(`push tcp ${ip.replaceAll(".", "\\.")}:443`));
      camera = await CameraSim.start({
        uid: "95270000UNITAAAA0123",
        ip: randomLoopback(),
        middleman: { ip, port: ports.middleman },
      });
      await camera.boot();
      const push = await Deno.connect({ hostname: ip, port: 443 });
      push.close();
      const stopLimitMs = Number(one("TimeoutStopSec")) * 1000;
      const stopped = await serve.stop("SIGTERM", stopLimitMs);
      assert.equal(stopped.code, 0, serve.stderr);
      assert.ok(stopped.ms < stopLimitMs, `stopped within TimeoutStopSec (${stopLimitMs} ms)`);
    } finally {
      await camera?.close();
      await serve.stop("SIGKILL");
      await program.remove();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
