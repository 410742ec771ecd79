/**
 * DNS responder throughput against dnsmasq on the same machine: queries answered per second
 * for an intercepted name (p2p.reolink.com, answered by the responder itself) and for a
 * forwarded name (example.test, forwarded to an upstream dnsmasq that answers it from an
 * `address=` line). The baseline is dnsmasq doing the same jobs: answering p2p.reolink.com
 * from its own `address=` line, and forwarding example.test to the same upstream with its
 * cache off (the responder does not cache either). Load comes from dnsperf (Debian `dnsperf`)
 * with 100 queries outstanding over UDP; every server runs in its own process. Loopback only.
 *
 *   scripts/deno run -A bench/dns_bench.ts [--seconds 10] [--outstanding 100]
 */

import { flag } from "./serve_support.ts";

const SECONDS = flag("seconds", 10);
const OUTSTANDING = flag("outstanding", 100);
const MAIN = new URL("../main.ts", import.meta.url).pathname;
const UPSTREAM_IP = "127.0.53.1";
const RESPONDER_IP = "127.0.53.2";
const DNSMASQ_IP = "127.0.53.3";
const UPSTREAM_PORT = 5301;
const RESPONDER_PORT = 5302;
const DNSMASQ_PORT = 5303;

/** A started server process. */
interface Proc {
  child: Deno.ChildProcess;
  stop(): Promise<void>;
}

function spawn(program: string, args: string[]): Proc {
  const child = new Deno.Command(program, {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
    env: { NO_COLOR: "1" },
  }).spawn();
  return {
    child,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      await child.status;
    },
  };
}

function dnsmasq(ip: string, port: number, extra: string[]): Proc {
  return spawn("dnsmasq", [
    "--no-daemon",
    "--conf-file=/dev/null",
    "--no-hosts",
    "--bind-interfaces",
    `--listen-address=${ip}`,
    `--port=${port}`,
    "--user=root",
    "--pid-file",
    "--cache-size=0",
    "--dns-forward-max=1000",
    ...extra,
  ]);
}

/** Waits until `name` resolves at ip:port (bounded). */
async function ready(ip: string, port: number, name: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const out = await new Deno.Command("dig", {
      args: [`@${ip}`, "-p", String(port), name, "+short", "+tries=1", "+time=1"],
      stdout: "piped",
      stderr: "null",
    }).output();
    // dig +short prints errors on stdout too: only an address line means an answer.
    if (/^\d+\.\d+\.\d+\.\d+$/m.test(new TextDecoder().decode(out.stdout))) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${ip}:${port} does not answer ${name}`);
}

/** dnsperf for SECONDS against ip:port asking `name` A; returns queries/s and lost. */
async function dnsperf(ip: string, port: number, name: string, seconds = SECONDS) {
  const file = await Deno.makeTempFile({ prefix: "dns-bench-" });
  await Deno.writeTextFile(file, `${name} A\n`);
  const out = await new Deno.Command("dnsperf", {
    args: [
      ...["-s", ip, "-p", String(port), "-d", file, "-l", String(seconds)],
      ...["-q", String(OUTSTANDING), "-t", "2"],
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  await Deno.remove(file);
  const text = new TextDecoder().decode(out.stdout);
  const qps = Number(/Queries per second:\s+([\d.]+)/.exec(text)?.[1] ?? NaN);
  const lost = /Queries lost:\s+(\d+)/.exec(text)?.[1] ?? "?";
  const noerror = /NOERROR (\d+)/.exec(text)?.[1] ?? "?";
  return { qps, lost, noerror };
}

const procs: Proc[] = [];
try {
  procs.push(
    dnsmasq(UPSTREAM_IP, UPSTREAM_PORT, ["--no-resolv", "--address=/example.test/10.1.2.3"]),
  );
  await ready(UPSTREAM_IP, UPSTREAM_PORT, "example.test");

  const stateDir = await Deno.makeTempDir({ prefix: "dns-bench-state-" });
  const config = `${stateDir}/config.toml`;
  await Deno.writeTextFile(
    config,
    `[push_listener]\nenable = false\n[log]\nlevel = "warning"\n` +
      `[dns]\nenable = true\nupstreams = ["${UPSTREAM_IP}:${UPSTREAM_PORT}"]\n`,
  );
  procs.push(spawn(Deno.execPath(), [
    ...["run", "--allow-all", "--quiet", MAIN, "serve", "--config", config],
    ...["--bind", RESPONDER_IP, "--api", "off", "--state-dir", stateDir],
    ...["--dns-port", String(RESPONDER_PORT)],
  ]));
  await ready(RESPONDER_IP, RESPONDER_PORT, "p2p.reolink.com");

  procs.push(dnsmasq(DNSMASQ_IP, DNSMASQ_PORT, [
    "--no-resolv",
    `--address=/p2p.reolink.com/${DNSMASQ_IP}`,
    `--server=${UPSTREAM_IP}#${UPSTREAM_PORT}`,
  ]));
  await ready(DNSMASQ_IP, DNSMASQ_PORT, "example.test");

  console.log(`dnsperf, ${SECONDS} s each, ${OUTSTANDING} queries outstanding, UDP`);
  for (
    const [label, ip, port, name] of [
      ["bairelay intercepted (p2p.reolink.com)", RESPONDER_IP, RESPONDER_PORT, "p2p.reolink.com"],
      ["dnsmasq   address=   (p2p.reolink.com)", DNSMASQ_IP, DNSMASQ_PORT, "p2p.reolink.com"],
      ["bairelay forwarded   (example.test)   ", RESPONDER_IP, RESPONDER_PORT, "example.test"],
      ["dnsmasq   forwarded  (example.test)   ", DNSMASQ_IP, DNSMASQ_PORT, "example.test"],
    ] as const
  ) {
    const warmup = await dnsperf(ip, port, name, 1);
    const result = await dnsperf(ip, port, name);
    console.log(`  (warm-up second: ${warmup.qps.toFixed(0)}/s, lost ${warmup.lost})`);
    console.log(
      `${label}: ${
        result.qps.toFixed(0)
      } queries/s (NOERROR ${result.noerror}, lost ${result.lost})`,
    );
  }
  await Deno.remove(stateDir, { recursive: true });
} finally {
  for (const proc of procs.reverse()) await proc.stop();
}
