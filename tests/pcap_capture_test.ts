/**
 * pcap-replay on captures written by real tools (tcpdump, dumpcap, tshark) while simulated
 * cameras and a client talk to the real wake server on loopback: timeline, summary, --json,
 * and replay against a fresh server (conforms) and a differently configured one (differs).
 * Captures run as root (as here and in CI); the filters only take this test's own ports.
 */

import assert from "node:assert/strict";
import { CameraSim } from "./support/camera_sim.ts";
import { ClientSim } from "./support/client_sim.ts";
import {
  type CaptureGroup,
  type CaptureSpec,
  captureTest,
  portFilter,
  startCaptures,
} from "./support/capture.ts";
import { replayAgainstTestServer } from "./support/replay_cli.ts";
import { runCli } from "./support/run_cli.ts";
import { freeServePorts, randomLoopback, ServeProcess } from "./support/serve_process.ts";
import { startTestServer } from "./support/wake_server.ts";

const CAMERA_A = "95270000PCAPAAAA0123";
const CAMERA_B = "95270000PCAPBBBB0456";
const SHORT_A = CAMERA_A.slice(0, 16);
const CID = 4242;
const HEARTBEAT_GAP_MS = 150;

/** Every capture is written by a different tool/device/format, all at the same time. */
const SPECS: Record<string, CaptureSpec> = {
  "tcpdump-lo.pcap": { tool: "tcpdump", device: "lo", format: "pcap" },
  "tcpdump-any-sll.pcap": {
    tool: "tcpdump",
    device: "any",
    format: "pcap",
    linkType: "LINUX_SLL",
    nano: true,
  },
  "tcpdump-any-sll2.pcap": {
    tool: "tcpdump",
    device: "any",
    format: "pcap",
    linkType: "LINUX_SLL2",
  },
  "dumpcap-lo.pcapng": { tool: "dumpcap", device: "lo", format: "pcapng" },
  "tshark-any-sll2.pcapng": {
    tool: "tshark",
    device: "any",
    format: "pcapng",
    linkType: "LINUX_SLL2",
  },
  "dumpcap-any-sll.pcap": {
    tool: "dumpcap",
    device: "any",
    format: "pcap",
    linkType: "LINUX_SLL",
  },
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Recorded {
  dir: string;
  pushPort: number;
}

/** Boots two cameras, heartbeats, wakes camera A from a client, and a push SYN; captured. */
async function recordScenario(): Promise<Recorded> {
  const dir = await Deno.makeTempDir({ prefix: "bairelay-pcap-" });
  const server = await startTestServer({ heartbeatMs: 20000, burstCount: 3, burstIntervalMs: 50 });
  const push = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const pushPort = (push.addr as Deno.NetAddr).port;
  const filter = portFilter([server.middleman.port, server.register.port], pushPort);
  let captures: CaptureGroup | undefined;
  const peers: { close(): Promise<void> }[] = [];
  try {
    captures = await startCaptures(
      Object.entries(SPECS).map(([name, spec]) => ({ spec, path: `${dir}/${name}` })),
      filter,
    );
    const middleman = { ...server.middleman };
    const register = { ...server.register };
    const cameraA = await CameraSim.start({ uid: CAMERA_A, ip: "127.0.0.2", middleman });
    peers.push(cameraA);
    const cameraB = await CameraSim.start({ uid: CAMERA_B, ip: "127.0.0.3", middleman });
    peers.push(cameraB);
    await cameraA.boot();
    await cameraB.boot();
    for (let i = 0; i < 3; i++) {
      await sleep(HEARTBEAT_GAP_MS);
      await cameraA.heartbeat();
    }
    const client = await ClientSim.start("127.0.0.4");
    peers.push(client);
    await client.query(middleman, SHORT_A);
    await client.connect(register, SHORT_A, { cid: CID });
    await cameraA.waitForWakes(1);
    const accepting = push.accept();
    const connection = await Deno.connect({ hostname: "127.0.0.1", port: pushPort });
    (await accepting).close();
    connection.close();
    // The rest of the burst, and the camera's D2R_C_R read by the server: on the wire now.
    await cameraA.waitForWakes(3);
    const confirmed = server.metrics.counter("bairelay_wakes_confirmed_total", "");
    const deadline = Date.now() + 5000;
    while (confirmed.get({ variant: "D2R_C_R" }) < 1) {
      if (Date.now() > deadline) throw new Error("the server never read the camera's D2R_C_R");
      await sleep(10);
    }
  } finally {
    await captures?.stop();
    for (const peer of peers) await peer.close();
    await server.close();
    push.close();
  }
  return { dir, pushPort };
}

let recording: Promise<Recorded> | undefined;
/** The scenario is recorded once, inside whichever test needs it first. */
function recorded(): Promise<Recorded> {
  recording ??= recordScenario();
  return recording;
}

function variantsOf(stdout: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of stdout.split("\n")) {
    const match = line.match(/^\s+\d+\.\d{6}\s+\S+ -> \S+\s+(\S+)/);
    if (match) counts.set(match[1], (counts.get(match[1]) ?? 0) + 1);
  }
  return counts;
}

captureTest("pcap-replay shows the timeline and summary of every real capture", async (t) => {
  const { dir, pushPort } = await recorded();
  let reference: Map<string, number> | undefined;
  for (const name of Object.keys(SPECS)) {
    await t.step(name, async () => {
      const result = await runCli([
        "pcap-replay",
        `${dir}/${name}`,
        "--push-port",
        String(pushPort),
      ]);
      assert.equal(result.code, 0, result.stderr);
      const out = result.stdout;
      const variants = variantsOf(out);
      for (
        const variant of [
          "D2M_Q",
          "M2D_Q_R",
          "D2R_R",
          "R2D_R_R",
          "D2R_HB",
          "R2D_HB_R",
          "C2M_Q",
          "M2C_Q_R",
          "C2R_C",
          "R2C_C_R",
          "R2C_T",
          "R2D_C",
          "D2R_C_R",
          "PUSH",
        ]
      ) assert.ok(variants.has(variant), `${variant} missing from\n${out}`);
      assert.equal(variants.get("D2R_HB"), 5, out); // A: boot + 3, B: boot
      assert.match(
        out,
        /127\.0\.0\.2:\d+ -> 127\.0\.0\.1:\d+\s+D2M_Q\s+tid=0x[0-9a-f]{8} uid=95270000PCAPAAAA0123$/m,
      );
      assert.match(
        out,
        new RegExp(
          `C2R_C\\s+tid=0x[0-9a-f]{8} uid=${SHORT_A} cli=127\\.0\\.0\\.4:\\d+ relay=127\\.0\\.0\\.1:\\d+ cid=${CID}`,
        ),
      );
      assert.match(out, /R2D_C\s+tid=\S+ cli=127\.0\.0\.4:\d+ cmap=\S+ relay=\S+ sid=\d+ cid=4242/);
      assert.match(out, /PUSH\s+push attempt \(TCP SYN\)/);
      // Summary.
      assert.match(out, /cameras: 2\n/);
      assert.match(
        out,
        /95270000PCAPAAAA0123 {2}from 127\.0\.0\.2:\d+ {2}heartbeats 4, every \d+\.\d+ m?s \(min \d+\.\d+ m?s, max \d+\.\d+ m?s\)/,
      );
      const interval = out.match(/heartbeats 4, every (\d+\.\d+) (m?s)/)!;
      const intervalMs = Number(interval[1]) * (interval[2] === "s" ? 1000 : 1);
      assert.ok(intervalMs >= HEARTBEAT_GAP_MS, `heartbeat interval ${intervalMs} ms`);
      assert.match(out, /95270000PCAPBBBB0456 {2}from 127\.0\.0\.3:\d+ {2}heartbeats 1\n/);
      assert.match(
        out,
        new RegExp(
          `${SHORT_A} from 127\\.0\\.0\\.4:\\d+ \\(cid ${CID}, sid \\d+\\): first R2D_C after \\d+\\.\\d+ m?s ` +
            `\\(\\d+ sent to 127\\.0\\.0\\.2:\\d+\\), D2R_C_R \\d+\\.\\d+ m?s later`,
        ),
      );
      assert.match(out, /push attempts: 1 \(127\.0\.0\.1 1\)/);
      assert.match(out, /decode errors: none/);
      assert.match(out, /capture problems: none/);
      // Every tool saw the same traffic.
      reference ??= variants;
      assert.deepEqual(variants, reference);
    });
  }
});

captureTest("pcap-replay --json prints one decode-shaped object per packet", async () => {
  const { dir, pushPort } = await recorded();
  const result = await runCli([
    "pcap-replay",
    `${dir}/dumpcap-lo.pcapng`,
    "--json",
    "--push-port",
    String(pushPort),
  ]);
  assert.equal(result.code, 0, result.stderr);
  const objects = result.stdout.trim().split("\n").map((line) => JSON.parse(line));
  const summary = objects.pop();
  assert.equal(summary.kind, "summary");
  assert.equal(summary.cameras.length, 2);
  assert.equal(summary.push_attempts.total, 1);
  assert.equal(summary.variants.D2R_HB, 5);
  assert.equal(summary.cameras.find((c: { uid: string }) => c.uid === CAMERA_A).heartbeats, 4);
  const [wake] = summary.wakes;
  assert.equal(wake.uid, SHORT_A);
  assert.equal(wake.cid, CID);
  assert.ok(wake.r2d_c >= 1 && wake.first_r2d_c_delay >= 0 && wake.confirm_delay >= 0);
  const m2dqr = objects.find((o) => o.variant === "M2D_Q_R");
  assert.equal(m2dqr.kind, "discovery");
  assert.equal(m2dqr.crc_ok, true);
  assert.equal(typeof m2dqr.tid, "number");
  assert.equal(typeof m2dqr.crc, "number");
  assert.match(m2dqr.fields.token, /^\d+$/); // u64 as a string of digits
  assert.match(m2dqr.xml, /^<P2P><M2D_Q_R><reg>/);
  assert.match(m2dqr.source, /^127\.0\.0\.1:\d+$/);
  assert.match(m2dqr.destination, /^127\.0\.0\.2:\d+$/);
  assert.match(m2dqr.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  assert.ok(objects.every((o, i) => i === 0 || o.time >= objects[i - 1].time));
  assert.ok(objects[0].time >= 0);
  assert.ok(objects.some((o) => o.kind === "push_attempt"));
});

captureTest("pcap-replay filters by uid, variant and port", async () => {
  const { dir } = await recorded();
  const byVariant = await runCli([
    "pcap-replay",
    `${dir}/tcpdump-lo.pcap`,
    "--variant",
    "r2d_c,D2R_C_R",
    "--no-summary",
  ]);
  assert.equal(byVariant.code, 0, byVariant.stderr);
  const kinds = [...variantsOf(byVariant.stdout).keys()].sort();
  assert.deepEqual(kinds, ["D2R_C_R", "R2D_C"]);
  const byUid = await runCli(["pcap-replay", `${dir}/tcpdump-lo.pcap`, "--uid", CAMERA_B]);
  const lines = byUid.stdout.split("\n").filter((line) => /^\s+\d+\.\d{6}/.test(line));
  assert.ok(lines.length >= 6, byUid.stdout); // B's boot: 3 requests + 3 answers
  assert.ok(lines.every((line) => line.includes("127.0.0.3:")), byUid.stdout);
});

/** Runs a replay of the tcpdump -i any capture against a fresh server configured by `options`. */
async function replayAgainst(options: Parameters<typeof startTestServer>[0]) {
  const { dir } = await recorded();
  return await replayAgainstTestServer(`${dir}/tcpdump-any-sll2.pcap`, options, 4, [
    "--reply-timeout",
    "500",
  ]);
}

captureTest("replaying a capture against a fresh server conforms", async () => {
  const result = await replayAgainst({ heartbeatMs: 20000, burstCount: 3, burstIntervalMs: 50 });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  const out = result.stdout;
  assert.match(out, /^ok +\d+\.\d{3} {2}127\.0\.0\.2:\d+ D2M_Q -> middleman: M2D_Q_R$/m);
  // The target's own token went back in D2R_R and the heartbeats.
  assert.match(out, /^ok .* D2R_R -> register: R2D_R_R \[token \d+ -> \d+\]$/m);
  assert.match(out, /^ok .* D2R_HB -> register: R2D_HB_R \[token \d+ -> \d+\]$/m);
  assert.match(out, /^ok .* C2R_C -> register: R2C_C_R, R2C_T$/m);
  assert.match(out, /^ok .* D2R_C_R -> register: no answer \[sid \d+ -> \d+\]$/m);
  assert.match(out, /^ok .* R2D_C to 127\.0\.0\.2:\d+: captured \d+, received \d+$/m);
  assert.match(
    out,
    /^Replay: 13 checks \(12 exchanges, 1 unsolicited groups\): 13 conform, 0 differ$/m,
  );
});

captureTest("replaying a capture against a fresh `bairelay serve` conforms", async () => {
  const { dir } = await recorded();
  const ip = randomLoopback();
  const ports = await freeServePorts(ip);
  const stateDir = await Deno.makeTempDir({ prefix: "bairelay-pcap-serve-" });
  const serve = ServeProcess.start([
    "--bind",
    ip,
    "--middleman-port",
    String(ports.middleman),
    "--register-port",
    String(ports.register),
    "--api",
    "off",
    "--no-push",
    "--state-dir",
    stateDir,
  ]);
  try {
    await serve.ready();
    const result = await runCli([
      "pcap-replay",
      `${dir}/tshark-any-sll2.pcapng`,
      "--target",
      ip,
      "--target-middleman-port",
      String(ports.middleman),
      "--target-register-port",
      String(ports.register),
      "--no-timing",
      "--reply-timeout",
      "500",
    ], { timeoutMs: 60000 });
    assert.equal(result.code, 0, result.stdout + result.stderr + serve.stderr);
    assert.match(result.stdout, /^ok .* C2R_C -> register: R2C_C_R, R2C_T$/m);
    assert.match(
      result.stdout,
      /^Replay: 13 checks \(12 exchanges, 1 unsolicited groups\): 13 conform, 0 differ$/m,
    );
  } finally {
    await serve.stop();
    await Deno.remove(stateDir, { recursive: true });
  }
});

captureTest("replaying against a server that answers differently is reported", async () => {
  const result = await replayAgainst({ heartbeatMs: 30000, burstCount: 3, burstIntervalMs: 50 });
  assert.equal(result.code, 1, result.stdout + result.stderr);
  assert.match(
    result.stdout,
    /^DIFF .* D2R_HB -> register: R2D_HB_R: R2D_HB_R\.timer\.hb is 30000, captured 20000/m,
  );
  assert.match(
    result.stdout,
    /^Replay: 13 checks \(12 exchanges, 1 unsolicited groups\): 8 conform, 5 differ$/m,
  );
});

captureTest("the capture files are removed", async () => {
  const { dir } = await recorded();
  await Deno.remove(dir, { recursive: true });
});
