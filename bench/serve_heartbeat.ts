/**
 * Heartbeats answered per second by the wake server (its own process) against a bare UDP
 * echo server (its own process), both driven by this process with the same closed-loop
 * generator in the same run; then fixed-rate runs at 70% down to 30% of the echo's rate,
 * counting lost replies (and at which socket the kernel dropped them) for the wake server
 * and, as a control, for the echo server. Loopback only.
 *
 *   scripts/deno run -A bench/serve_heartbeat.ts [--seconds 5] [--window 64] [--rounds 3]
 *                                                [--rcvbuf BYTES] [--shares 70,60,50,40,30]
 *
 * `--shares` lists the fixed rates, in percent of the echo's (empty: none). Child processes
 * get `SERVE_BENCH_V8_FLAGS` as their `--v8-flags` (comma-separated), to compare V8 settings.
 *
 * `--rcvbuf` gives every socket of the run (wake server, echo server, generator) that kernel
 * receive buffer; the default is the wake server's default `receive_buffer_bytes`, and 0
 * keeps the kernel's.
 */

import { DEFAULT_RECEIVE_BUFFER_BYTES } from "../lib/net/receive_buffer.ts";
import { bindUdpListener, type UdpListener } from "../lib/wake/udp_listener.ts";
import { type Endpoint, flag, heartbeatPackets, spawnProc, udpDrops } from "./serve_support.ts";

const SECONDS = flag("seconds", 5);
const WINDOW = flag("window", 64);
const ROUNDS = flag("rounds", 3);
const RCVBUF = flag("rcvbuf", DEFAULT_RECEIVE_BUFFER_BYTES);
const CAMERAS = 1024;
/** Fixed send rates tried for loss, as shares of the echo server's rate. */
const FIXED_SHARES = (() => {
  const index = Deno.args.indexOf("--shares");
  const list = index >= 0 ? Deno.args[index + 1] : "70,60,50,40,30";
  return list.split(",").filter((s) => s !== "").map((s) => Number(s) / 100);
})();

/** A generator socket on the same socket layer as the servers (node:dgram drops replies here). */
function openSocket(onReply: () => void): UdpListener {
  return bindUdpListener("register", "127.0.0.1", 0, {
    onDatagram: onReply,
    onSendFailed: () => {},
    onReceiveError: () => {},
  }, RCVBUF);
}

/** Keeps `WINDOW` requests outstanding for `seconds`; returns replies per second. */
async function closedLoop(to: Endpoint, packets: Uint8Array[], seconds: number) {
  let outstanding = 0;
  let replies = 0;
  let next = 0;
  let stalls = 0;
  let lastReplies = 0;
  const sendOne = () => {
    socket.send(packets[next], to);
    next = (next + 1) % packets.length;
    outstanding++;
  };
  const socket = openSocket(() => {
    replies++;
    outstanding--;
    sendOne();
  });
  const started = performance.now();
  for (let i = 0; i < WINDOW; i++) sendOne();
  const watchdog = setInterval(() => {
    if (replies === lastReplies) { // lost packets stalled the window: refill it
      stalls++;
      outstanding = 0;
      for (let i = 0; i < WINDOW; i++) sendOne();
    }
    lastReplies = replies;
  }, 100);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const elapsed = (performance.now() - started) / 1000;
  clearInterval(watchdog);
  const counted = replies;
  await socket.close();
  return { rate: counted / elapsed, stalls };
}

/**
 * Sends at `rate` per second for `seconds`; returns sent and answered counts, and the
 * datagrams the kernel dropped at the server's socket and at the generator's own socket
 * (a reply lost there is the generator falling behind, not the server).
 */
async function fixedRate(to: Endpoint, packets: Uint8Array[], rate: number, seconds: number) {
  let replies = 0;
  const socket = openSocket(() => replies++);
  const serverDropsBefore = udpDrops(to.port);
  let sent = 0;
  let next = 0;
  const started = performance.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = (performance.now() - started) / 1000;
      const due = Math.min(Math.floor(elapsed * rate), Math.floor(seconds * rate));
      for (; sent < due; sent++) {
        socket.send(packets[next], to);
        next = (next + 1) % packets.length;
      }
      if (elapsed >= seconds) {
        clearInterval(timer);
        resolve();
      }
    }, 1);
  });
  await new Promise((r) => setTimeout(r, 1000));
  const serverDrops = udpDrops(to.port) - serverDropsBefore;
  const generatorDrops = udpDrops(socket.address.port);
  await socket.close();
  return { sent, replies, serverDrops, generatorDrops };
}

function lossText(name: string, run: Awaited<ReturnType<typeof fixedRate>>): string {
  return `${name} lost ${run.sent - run.replies} of ${run.sent} (dropped at its socket: ` +
    `${run.serverDrops}, at the generator's: ${run.generatorDrops})`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const packets = heartbeatPackets(CAMERAS, "HB");
const buffers = JSON.stringify({ receiveBufferBytes: RCVBUF });
const wake = await spawnProc<{ register: Endpoint }>("wake", buffers);
const echo = await spawnProc<{ port: number }>("echo", buffers);
const echoTo = { ip: "127.0.0.1", port: echo.ready.port };
try {
  await closedLoop(wake.ready.register, packets, 1); // warm-up: registers all cameras
  await closedLoop(echoTo, packets, 1);
  const echoRates: number[] = [];
  const wakeRates: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    echoRates.push((await closedLoop(echoTo, packets, SECONDS)).rate);
    wakeRates.push((await closedLoop(wake.ready.register, packets, SECONDS)).rate);
  }
  const echoRate = median(echoRates);
  const wakeRate = median(wakeRates);
  const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
  console.log(
    `rounds: ${ROUNDS} x ${SECONDS} s, window ${WINDOW}, ${CAMERAS} camera UIDs, socket receive ` +
      `buffers: ${RCVBUF > 0 ? `${RCVBUF} bytes asked` : "the kernel's default"}`,
  );
  console.log(`echo server:  ${echoRates.map(fmt).join(", ")} replies/s (median ${fmt(echoRate)})`);
  console.log(
    `wake server:  ${wakeRates.map(fmt).join(", ")} heartbeats answered/s (median ${
      fmt(wakeRate)
    })`,
  );
  console.log(`ratio:        ${(wakeRate / echoRate * 100).toFixed(1)}% of echo (target >= 70%)`);
  for (const share of FIXED_SHARES) {
    const rate = Math.floor(echoRate * share);
    const wakeLoss = await fixedRate(wake.ready.register, packets, rate, SECONDS);
    const echoLoss = await fixedRate(echoTo, packets, rate, SECONDS);
    console.log(
      `fixed ${fmt(rate)}/s (${share * 100}% of echo) for ${SECONDS} s: ` +
        `${lossText("wake server", wakeLoss)}; ${lossText("echo server (control)", echoLoss)}`,
    );
  }
} finally {
  await wake.stop();
  await echo.stop();
}
