/**
 * `doctor`'s checks: a table of definitions, each a plain function from the gathered facts
 * (facts.ts) to results (ok / warning / problem, with a remedy). Nothing here does I/O, so
 * every verdict can be tested from hand-written facts.
 */

import { P2P_HOSTS } from "../reolink_hosts.ts";
import type { CameraDocument } from "../api/routes.ts";
import { classifyAnswer, dnsChecks } from "./dns_check.ts";
import { drainChecks } from "./drain_check.ts";
import type { DoctorFacts, ResolverAnswers } from "./facts.ts";
import { type CheckGroup, type CheckResult, result } from "./result.ts";

/** One kind of check. */
export interface CheckDefinition {
  group: CheckGroup;
  /** What it looks at (for documentation and `--help`). */
  title: string;
  run(facts: DoctorFacts): CheckResult[];
}

/** Every check, in output order. */
export const CHECKS: readonly CheckDefinition[] = [
  {
    group: "dns",
    title: "each resolver sends p2p*.reolink.com and pushx.reolink.com here",
    run: dnsChecks,
  },
  { group: "serve", title: "serve answers on its control API", run: serveReachable },
  { group: "serve", title: "listeners up, or why not", run: listenerChecks },
  { group: "serve", title: "receive buffers granted", run: receiveBufferChecks },
  { group: "serve", title: "MQTT broker connected", run: mqttCheck },
  { group: "cameras", title: "every camera fresh, stale or never seen", run: cameraChecks },
  {
    group: "cameras",
    title: "no requester wakes a camera too often (battery drain)",
    run: drainChecks,
  },
  { group: "box", title: "privilege for the push port (443)", run: pushPortPrivilege },
  { group: "box", title: "net.core.rmem_max", run: rmemMaxCheck },
  { group: "box", title: "ports free for serve", run: portChecks },
];

/** Runs every check on `facts`. */
export function runChecks(facts: DoctorFacts): CheckResult[] {
  return CHECKS.flatMap((check) => check.run(facts));
}

/** The run's outcome: `serve` not reached, its API refused the token, problems, or all fine. */
export type DoctorOutcome = "ok" | "problems" | "refused" | "unreachable";

/** Sums up the results and the serve facts into one outcome (the CLI maps it to an exit code). */
export function doctorOutcome(facts: DoctorFacts, results: readonly CheckResult[]): DoctorOutcome {
  const reach = facts.serve.reach;
  if (reach === "off" || reach === "unreachable" || reach === "timeout") return "unreachable";
  if (reach === "refused") return "refused";
  return results.some((entry) => entry.verdict === "problem") ? "problems" : "ok";
}

const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

// ---------------------------------------------------------------------------------------------
// serve

function serveReachable(facts: DoctorFacts): CheckResult[] {
  const serve = facts.serve;
  const where = serve.url ?? "(no API)";
  switch (serve.reach) {
    case "ok": {
      const status = serve.status!;
      const last = status.last_packet === null
        ? "no camera packet yet"
        : `last camera packet ${
          seconds(Math.max(0, facts.now - Date.parse(status.last_packet)))
        } ago`;
      return [result(
        "serve",
        "serve.api",
        "ok",
        `serve answers at ${where}: bairelay ${status.version}, up ${status.uptime_s} s, ${last}`,
      )];
    }
    case "off":
      return [result("serve", "serve.api", "problem", `serve: ${serve.error}`, {
        remedy: 'Set [api] listen (e.g. "127.0.0.1:9899") so serve can be checked, or pass --api.',
      })];
    case "refused":
      return [result("serve", "serve.api", "problem", `serve refused the token: ${serve.error}`, {
        remedy: "Pass --token, set BAIRELAY_API_TOKEN, or --config with serve's config file.",
      })];
    case "error":
      return [result("serve", "serve.api", "problem", `serve answered badly: ${serve.error}`, {
        remedy: "Is it `bairelay serve` that listens at --api (an older serve without " +
          "/api/status: upgrade it)? Check its log.",
      })];
    default:
      return [result("serve", "serve.api", "problem", `serve not reachable: ${serve.error}`, {
        remedy: "Start it (`bairelay serve`, or its systemd unit), or point --api or --config at " +
          "it. The DNS and box checks below do not need it.",
      })];
  }
}

/** What to do about a push listener that could not start. */
const PUSH_DISABLED_REMEDY = "Motion events are off. Ports below 1024 need root or " +
  "CAP_NET_BIND_SERVICE: `setcap cap_net_bind_service=+ep` on the executable, " +
  "AmbientCapabilities=CAP_NET_BIND_SERVICE in the systemd unit, or --push-port 8443 plus a " +
  "redirect of TCP 443 to it (iptables/nft).";

function listenerChecks(facts: DoctorFacts): CheckResult[] {
  return (facts.serve.status?.listeners ?? []).map((listener) => {
    const id = `serve.listener.${listener.name}`;
    const what = `listener ${listener.name} (${listener.protocol})`;
    if (listener.state === "up") {
      return result("serve", id, "ok", `${what} up on ${listener.address}`);
    }
    if (listener.state === "off") {
      return result("serve", id, "ok", `${what} off: ${listener.reason}`);
    }
    return result("serve", id, "warning", `${what} disabled: ${listener.reason}`, {
      remedy: listener.name === "push"
        ? PUSH_DISABLED_REMEDY
        : "See serve's log for the cause; restart serve once it is fixed.",
    });
  });
}

function receiveBufferChecks(facts: DoctorFacts): CheckResult[] {
  return (facts.serve.status?.receive_buffers ?? []).map((buffer) => {
    const id = `serve.receive_buffer.${buffer.listener}`;
    const what = `${buffer.listener} receive buffer`;
    if (buffer.problem === null && buffer.granted !== null && buffer.granted >= buffer.requested) {
      return result("serve", id, "ok", `${what}: ${buffer.granted} bytes granted`);
    }
    return result(
      "serve",
      id,
      "warning",
      buffer.problem === null
        ? `${what}: ${buffer.granted} bytes granted of ${buffer.requested} asked`
        : `${what}: not set (${buffer.problem})`,
      { remedy: rmemRemedy(buffer.requested) },
    );
  });
}

function rmemRemedy(bytes: number): string {
  return `A burst of heartbeats may be dropped. Raise the kernel's cap: \`sysctl -w ` +
    `net.core.rmem_max=${bytes}\`, kept across reboots by the line "net.core.rmem_max = ${bytes}" ` +
    "in /etc/sysctl.d/90-bairelay.conf; then restart serve.";
}

function mqttCheck(facts: DoctorFacts): CheckResult[] {
  const mqtt = facts.serve.status?.mqtt;
  if (!mqtt) return [];
  const id = "serve.mqtt";
  if (mqtt.state === "off") return [result("serve", id, "ok", "MQTT off (no [mqtt] broker_addr)")];
  if (mqtt.state === "connected") {
    return [result("serve", id, "ok", `MQTT connected to ${mqtt.broker}`)];
  }
  // While the broker is down, the bridge alternates between connecting and disconnected; the
  // last error stays until it connects, so an error (in either state) is the problem.
  if (mqtt.state === "connecting" && mqtt.error === null) {
    return [result("serve", id, "warning", `MQTT connecting to ${mqtt.broker}`, {
      remedy: "If this lasts, check that the broker runs and accepts this box.",
    })];
  }
  return [result(
    "serve",
    id,
    "problem",
    `MQTT not connected to ${mqtt.broker}${mqtt.error === null ? "" : ` (${mqtt.error})`}`,
    {
      remedy: "Is the broker running and reachable from this box? Check [mqtt] broker_addr, " +
        "port, credentials and ca.",
    },
  )];
}

// ---------------------------------------------------------------------------------------------
// cameras

/** Whether `resolver` sends every p2p name to this box (or --expect). */
function sendsP2pHere(resolver: ResolverAnswers, facts: DoctorFacts): boolean {
  return P2P_HOSTS.every((name) => {
    const answer = resolver.answers.find((entry) => entry.name === name);
    return answer !== undefined && classifyAnswer(answer.outcome, facts.here).kind === "here";
  });
}

/** Why a configured camera may never have registered, given what the DNS checks found. */
function neverSeenCause(facts: DoctorFacts): string {
  const asked = facts.resolvers.filter((resolver) => resolver.source !== "serve");
  const redirected = asked.filter((resolver) => sendsP2pHere(resolver, facts));
  const cache = "the camera still holds the old DNS answer (reboot it: take the battery out " +
    "for a few seconds)";
  const firewall = "a firewall drops UDP 9999 and 58200 from the camera to this box";
  const uid = "the uid in [[cameras]] does not match the camera's sticker";
  if (asked.length > 0 && redirected.length < asked.length) {
    return "Likely cause: DNS not redirected (see the DNS checks above); once it is, reboot " +
      `the camera. Otherwise ${cache}, or ${firewall}, or ${uid}.`;
  }
  const dns = asked.length === 0
    ? "the cameras' DNS does not send p2p*.reolink.com here " +
      "(check it with --dns), or "
    : "";
  return `Likely cause: ${dns}${cache}, or ${firewall}, or ${uid}.`;
}

function cameraLabel(camera: CameraDocument): string {
  return camera.name === null ? camera.uid : `${camera.name} (${camera.uid})`;
}

function fromAddress(camera: CameraDocument): string {
  if (camera.address === null) return "";
  const { ip, port } = camera.address;
  return ` from ${ip.includes(":") ? `[${ip}]` : ip}:${port}`;
}

function cameraChecks(facts: DoctorFacts): CheckResult[] {
  const cameras = facts.serve.cameras;
  if (cameras === null) return [];
  if (cameras.length === 0) {
    return [result("cameras", "cameras.none", "warning", "no camera registered or configured", {
      remedy: "Point the cameras' DNS here (see the DNS checks), then reboot them; name each " +
        "camera in [[cameras]] (name, uid) to see it here before it registers.",
    })];
  }
  const results = cameras.map((camera) => {
    const id = `camera.${camera.name ?? camera.uid}`;
    const label = cameraLabel(camera);
    const heard = camera.age_ms === null
      ? ""
      : `, last heartbeat ${seconds(camera.age_ms)} ago${fromAddress(camera)}`;
    switch (camera.state) {
      case "fresh":
        return result("cameras", id, "ok", `${label}: fresh${heard}`);
      case "stale":
        return result("cameras", id, "warning", `${label}: stale${heard}`, {
          remedy: "The camera stopped sending heartbeats: a flat battery, out of Wi-Fi range, or " +
            "its DNS no longer sends it here. It cannot be woken until it registers again.",
        });
      case "never_seen":
        return result("cameras", id, "problem", `${label}: never seen`, {
          remedy: neverSeenCause(facts),
        });
    }
  });
  // Any resolver counts here, serve's own responder too: the cameras may use it.
  const fresh = cameras.filter((camera) => camera.state === "fresh" && camera.address !== null);
  if (
    fresh.length > 0 && facts.resolvers.length > 0 &&
    !facts.resolvers.some((resolver) => sendsP2pHere(resolver, facts))
  ) {
    results.push(result(
      "cameras",
      "cameras.unexplained",
      "warning",
      `heartbeats arrive (${fresh.map((camera) => camera.address!.ip).join(", ")}) though no ` +
        "DNS server asked sends the p2p names here",
      {
        remedy: "The cameras use a DNS server not asked here (name it with --dns), or their " +
          "traffic is redirected another way: keep that path, or a camera reboot may lose it.",
      },
    ));
  }
  return results;
}

// ---------------------------------------------------------------------------------------------
// this box

function listenerUp(facts: DoctorFacts, name: string) {
  return facts.serve.status?.listeners.find((entry) => entry.name === name && entry.state === "up");
}

function pushPortPrivilege(facts: DoctorFacts): CheckResult[] {
  const { pushEnabled, pushPort } = facts.setup;
  const box = facts.box;
  const id = "box.push_port_privilege";
  const ok = (why: string) => [result("box", id, "ok", `port ${pushPort}: ${why}`)];
  if (!pushEnabled) return ok("push listener off in the configuration, no privilege needed");
  const held = listenerUp(facts, "push");
  if (held) return ok(`serve's push listener holds it (${held.address})`);
  if (box.unprivilegedPortStart !== null && pushPort >= box.unprivilegedPortStart) {
    return ok(
      `any user may bind it (net.ipv4.ip_unprivileged_port_start = ${box.unprivilegedPortStart})`,
    );
  }
  if (box.uid === 0) return ok("running as root");
  if (box.netBindService) {
    return ok(
      box.ambientNetBindService
        ? "CAP_NET_BIND_SERVICE in the effective and ambient sets (programs started from here " +
          "have it too)"
        : "CAP_NET_BIND_SERVICE in the effective set",
    );
  }
  if (box.uid === null || box.netBindService === null) {
    return [
      result("box", id, "warning", `port ${pushPort}: cannot tell (/proc/self/status unreadable)`),
    ];
  }
  return [result(
    "box",
    id,
    "warning",
    `port ${pushPort}: uid ${box.uid} may not bind it (not root, no CAP_NET_BIND_SERVICE, ` +
      `ports below ${box.unprivilegedPortStart ?? 1024} need privilege); serve started like ` +
      "this runs without the push listener",
    {
      remedy: facts.serve.status?.listeners.some((l) => l.name === "push" && l.state === "disabled")
        ? "As for serve's push listener above."
        : PUSH_DISABLED_REMEDY,
    },
  )];
}

function rmemMaxCheck(facts: DoctorFacts): CheckResult[] {
  const wanted = facts.setup.receiveBufferBytes;
  const rmemMax = facts.box.rmemMax;
  const id = "box.rmem_max";
  if (wanted === 0) {
    return [result("box", id, "ok", "receive buffers not asked for (receive_buffer_bytes = 0)")];
  }
  if (rmemMax === null) {
    return [result("box", id, "warning", "cannot read net.core.rmem_max", {
      remedy: rmemRemedy(wanted),
    })];
  }
  if (rmemMax >= wanted) {
    return [
      result("box", id, "ok", `net.core.rmem_max = ${rmemMax}: room for ${wanted}-byte buffers`),
    ];
  }
  return [result(
    "box",
    id,
    "warning",
    `net.core.rmem_max = ${rmemMax}: the ${wanted}-byte receive buffers get ${2 * rmemMax} bytes`,
    { remedy: rmemRemedy(wanted) },
  )];
}

/** The ports serve binds, from the configuration. */
function wantedPorts(facts: DoctorFacts) {
  const { middlemanPort, registerPort, pushEnabled, pushPort } = facts.setup;
  return [
    { listener: "middleman", protocol: "udp" as const, port: middlemanPort },
    { listener: "register", protocol: "udp" as const, port: registerPort },
    ...pushEnabled ? [{ listener: "push", protocol: "tcp" as const, port: pushPort }] : [],
  ];
}

function portChecks(facts: DoctorFacts): CheckResult[] {
  const sockets = facts.box.sockets;
  return wantedPorts(facts).map(({ listener, protocol, port }) => {
    const id = `box.port.${listener}`;
    const what = `${protocol.toUpperCase()} ${port} (${listener})`;
    const held = listenerUp(facts, listener);
    if (held) return result("box", id, "ok", `${what}: held by serve (${held.address})`);
    if (sockets === null) return result("box", id, "warning", `${what}: cannot read /proc/net`);
    const holders = sockets.filter((s) => s.protocol === protocol && s.port === port);
    if (holders.length === 0) return result("box", id, "ok", `${what}: free`);
    const who = holders.map((s) => `${s.address}, uid ${s.uid}`).join("; ");
    const serveOff = facts.serve.reach === "off"
      ? " (If that is `bairelay serve` itself with its API off, all is well.)"
      : "";
    return result("box", id, "problem", `${what}: in use by another program (${who})`, {
      remedy: `serve cannot bind it. Find the program with \`ss -${
        protocol === "udp" ? "u" : "t"
      }lnp 'sport = :${port}'\` and stop it${
        listener === "middleman"
          ? " (cameras always send to UDP 9999)"
          : ", or give serve another port"
      }.${serveOff}`,
    });
  });
}
