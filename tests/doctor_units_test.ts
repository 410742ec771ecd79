/** `doctor` pieces on plain data: /proc parsers, DNS answers, and check verdicts from facts. */

import assert from "node:assert/strict";
// @ts-types="@types/dns-packet"
import dnsPacket from "dns-packet";
import {
  effectiveUid,
  hasCapability,
  parseProcNet,
  readBoxFacts,
  type ReadText,
  UNKNOWN_BOX,
} from "../lib/doctor/box.ts";
import { doctorOutcome, runChecks } from "../lib/doctor/checks.ts";
import { classifyAnswer, isPrivateIpv4, nameList } from "../lib/doctor/dns_check.ts";
import { type DnsOutcome, interpretAnswer, parseDnsServer } from "../lib/doctor/dns_client.ts";
import type { DoctorFacts } from "../lib/doctor/facts.ts";
import { P2P_HOSTS, PUSH_HOST, REOLINK_HOSTS } from "../lib/reolink_hosts.ts";
import type { CameraDocument } from "../lib/api/routes.ts";

const PROC_UDP =
  `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  123: 00000000:270F 00000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 4242 2 0000000000000000 0
  124: 0100007F:E398 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4243 2 0000000000000000 0
`;
const PROC_TCP6 =
  `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:01BB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000    33        0 99 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000001000000:1F90 00000000000000000000000001000000:D431 01 00000000:00000000 00:00000000 00000000  1000        0 98 1 0000000000000000 20 4 30 10 -1
   2: 0000000000000000FFFF00000100007F:2382 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 97 1 0000000000000000 100 0 0 10 0
`;
const STATUS = "Name:\tdeno\nUid:\t1000\t1000\t1000\t1000\nCapInh:\t0000000000000000\n" +
  "CapEff:\t0000000000000400\nCapAmb:\t0000000000000000\n";

Deno.test("doctor box: /proc/net tables, uid and CAP_NET_BIND_SERVICE", async () => {
  assert.deepEqual(parseProcNet(PROC_UDP, "udp"), [
    { protocol: "udp", address: "0.0.0.0:9999", port: 9999, uid: 1000 },
    { protocol: "udp", address: "127.0.0.1:58264", port: 58264, uid: 0 },
  ]);
  // Only LISTEN sockets count for TCP; IPv6 addresses come out compressed.
  assert.deepEqual(parseProcNet(PROC_TCP6, "tcp"), [
    { protocol: "tcp", address: "[::]:443", port: 443, uid: 33 },
    { protocol: "tcp", address: "[::ffff:127.0.0.1]:9090", port: 9090, uid: 0 },
  ]);
  assert.deepEqual(parseProcNet("garbage\nnot a table at all\n", "udp"), []);
  assert.equal(effectiveUid(STATUS), 1000);
  assert.equal(hasCapability(STATUS, "CapEff"), true);
  assert.equal(hasCapability(STATUS, "CapAmb"), false);
  assert.equal(hasCapability("Uid: 0 0 0 0\n", "CapEff"), null);

  const files: Record<string, string> = {
    "/proc/4242/status": STATUS,
    "/proc/sys/net/ipv4/ip_unprivileged_port_start": "1024\n",
    "/proc/sys/net/core/rmem_max": "212992\n",
    "/proc/net/udp": PROC_UDP,
  };
  const read: ReadText = (path) => Promise.resolve(files[path] ?? null);
  const facts = await readBoxFacts(read, 4242);
  assert.equal(facts.uid, 1000);
  assert.equal(facts.netBindService, true);
  assert.equal(facts.unprivilegedPortStart, 1024);
  assert.equal(facts.rmemMax, 212992);
  assert.equal(facts.sockets?.length, 2);
  const nothing = await readBoxFacts(() => Promise.resolve(null));
  assert.deepEqual(nothing, UNKNOWN_BOX);
});

Deno.test("doctor DNS client: --dns values and answers that are not answers", () => {
  assert.deepEqual(parseDnsServer("192.168.1.2"), { host: "192.168.1.2", port: 53 });
  assert.deepEqual(parseDnsServer("192.168.1.2:5353"), { host: "192.168.1.2", port: 5353 });
  assert.deepEqual(parseDnsServer("::1"), { host: "::1", port: 53 });
  assert.deepEqual(parseDnsServer("[fd00::2]:53"), { host: "fd00::2", port: 53 });
  for (const bad of ["pihole.lan", "localhost:53", "1.2.3.4:0", "1.2.3.4:70000", "", "1.2.3"]) {
    assert.equal(parseDnsServer(bad), null, bad);
  }
  const answer = (id: number, flags: number, name = "p2p.reolink.com") =>
    dnsPacket.encode({
      type: "response",
      id,
      flags,
      questions: [{ type: "A", name }],
      answers: flags === 0
        ? [{ type: "A", name, ttl: 60, data: "192.168.1.10" }, {
          type: "CNAME",
          name,
          ttl: 60,
          data: "x.example",
        }]
        : [],
    });
  assert.deepEqual(interpretAnswer(answer(7, 0), 7, "p2p.reolink.com"), {
    kind: "answer",
    addresses: ["192.168.1.10"],
  });
  assert.deepEqual(interpretAnswer(answer(7, 3), 7, "p2p.reolink.com"), { kind: "nxdomain" });
  assert.deepEqual(interpretAnswer(answer(7, 5), 7, "p2p.reolink.com"), {
    kind: "error",
    rcode: "REFUSED",
  });
  assert.equal(interpretAnswer(answer(8, 0), 7, "p2p.reolink.com").kind, "garbage");
  assert.equal(
    interpretAnswer(answer(7, 0, "other.example"), 7, "p2p.reolink.com").kind,
    "garbage",
  );
  assert.equal(interpretAnswer(new Uint8Array([1, 2, 3]), 7, "p2p.reolink.com").kind, "garbage");
  for (let i = 0; i < 200; i++) {
    const random = crypto.getRandomValues(new Uint8Array(1 + Math.floor(Math.random() * 80)));
    interpretAnswer(random, 7, "p2p.reolink.com"); // never throws
  }
});

Deno.test("doctor DNS verdicts: this box, --expect, cloud, LAN, blocked", () => {
  const here = { box: ["192.168.1.10"], expected: ["10.0.0.5"] };
  const a = (...addresses: string[]): DnsOutcome => ({ kind: "answer", addresses });
  assert.equal(classifyAnswer(a("192.168.1.10"), here).kind, "here");
  assert.equal(classifyAnswer(a("127.0.0.9"), here).kind, "here");
  assert.equal(classifyAnswer(a("10.0.0.5"), here).text, "10.0.0.5 (--expect)");
  assert.equal(classifyAnswer(a("47.88.1.2"), here).kind, "cloud");
  assert.equal(classifyAnswer(a("192.168.1.99"), here).kind, "lan");
  assert.equal(classifyAnswer(a("192.168.1.10", "47.88.1.2"), here).kind, "partly");
  assert.equal(classifyAnswer(a("0.0.0.0"), here).kind, "blocked");
  assert.equal(classifyAnswer(a(), here).kind, "empty");
  assert.equal(isPrivateIpv4("172.20.1.1"), true);
  assert.equal(isPrivateIpv4("172.32.1.1"), false);
  assert.equal(isPrivateIpv4("100.127.0.1"), true);
  assert.equal(
    nameList(REOLINK_HOSTS),
    "p2p.reolink.com, p2p1..p2p11.reolink.com, pushx.reolink.com",
  );
});

/** Facts for a box where serve runs and one resolver answered `answer(name)`. */
function facts(
  answer: (name: string) => DnsOutcome,
  cameras: CameraDocument[] = [],
  overrides: Partial<DoctorFacts> = {},
): DoctorFacts {
  return {
    now: Date.parse("2026-11-29T04:00:20Z"),
    setup: {
      configSource: null,
      middlemanPort: 9999,
      registerPort: 58200,
      pushEnabled: true,
      pushPort: 443,
      receiveBufferBytes: 4194304,
    },
    dnsTimeoutMs: 1500,
    here: { box: ["192.168.1.10"], expected: [] },
    adviseAddresses: ["192.168.1.10"],
    systemResolver: null,
    resolvers: [{
      source: "flag",
      server: "192.168.1.1:53",
      answers: REOLINK_HOSTS.map((name) => ({ name, outcome: answer(name) })),
    }],
    serve: {
      url: "http://127.0.0.1:9899",
      reach: "ok",
      error: null,
      status: {
        version: "0.1.0",
        started_at: "2026-11-29T04:00:00.000Z",
        uptime_s: 20,
        listeners: [
          {
            name: "middleman",
            protocol: "udp",
            state: "up",
            address: "0.0.0.0:9999",
            reason: null,
          },
          {
            name: "register",
            protocol: "udp",
            state: "up",
            address: "0.0.0.0:58200",
            reason: null,
          },
          {
            name: "push",
            protocol: "tcp",
            state: "disabled",
            address: null,
            reason: "no permission for port 443",
          },
        ],
        receive_buffers: [
          { listener: "middleman", requested: 4194304, granted: 425984, problem: null },
        ],
        mqtt: { state: "disconnected", broker: "127.0.0.1:1883", error: "ECONNREFUSED" },
        state_dir: "/var/lib/bairelay",
        cameras: { fresh: 0, stale: 0, never_seen: 0 },
        last_packet: "2026-11-29T04:00:10.000Z",
        advertised_addresses: ["192.168.1.10"],
      },
      cameras,
    },
    box: {
      uid: 1000,
      netBindService: false,
      ambientNetBindService: false,
      unprivilegedPortStart: 1024,
      rmemMax: 212992,
      sockets: [],
    },
    ...overrides,
  };
}

const camera = (
  name: string,
  state: CameraDocument["state"],
  ageMs: number | null,
): CameraDocument => ({
  uid: `95270000${name.toUpperCase().padEnd(8, "X")}0001`,
  name,
  state,
  address: ageMs === null ? null : { ip: "192.168.1.23", port: 40000 },
  first_seen: null,
  last_heartbeat: null,
  age_ms: ageMs,
  fresh: state === "fresh",
  wakes: 0,
  last_wake: null,
  last_motion: null,
  wakes_last_hour: null,
  wake_budget: null,
});

const find = (results: ReturnType<typeof runChecks>, id: string) => {
  const found = results.find((entry) => entry.id === id);
  assert.ok(found, `${id} in ${results.map((entry) => entry.id).join(", ")}`);
  return found;
};

Deno.test("doctor checks: a mix across the p2p names is a problem with the dnsmasq line", () => {
  const results = runChecks(
    facts((name) =>
      name === "p2p.reolink.com" || name === PUSH_HOST
        ? { kind: "answer", addresses: ["192.168.1.10"] }
        : { kind: "answer", addresses: ["47.88.1.2"] }
    ),
  );
  const dns = find(results, "dns.flag.192.168.1.1:53");
  assert.equal(dns.verdict, "problem");
  assert.match(dns.summary, /a mix across the p2p names: 1 of 12 resolve here/);
  assert.match(dns.remedy!, /address=\/p2p\.reolink\.com\/.*\/192\.168\.1\.10/);
  assert.deepEqual(dns.details, [
    "p2p.reolink.com, pushx.reolink.com -> 192.168.1.10 (this box)",
    `${P2P_HOSTS.slice(1).join(", ")} -> 47.88.1.2 (not this box: Reolink's cloud, presumably)`,
  ]);
});

Deno.test("doctor checks: only pushx missing is a warning; serve, camera and box verdicts", () => {
  const results = runChecks(facts(
    (name) =>
      name === PUSH_HOST ? { kind: "nxdomain" } : { kind: "answer", addresses: ["192.168.1.10"] },
    [
      camera("garden", "fresh", 3000),
      camera("porch", "stale", 95_000),
      camera("shed", "never_seen", null),
    ],
  ));
  assert.equal(find(results, "dns.flag.192.168.1.1:53").verdict, "warning");
  assert.match(find(results, "serve.api").summary, /up 20 s, last camera packet 10 s ago/);
  const push = find(results, "serve.listener.push");
  assert.equal(push.verdict, "warning");
  assert.match(push.remedy!, /CAP_NET_BIND_SERVICE/);
  assert.equal(find(results, "serve.receive_buffer.middleman").verdict, "warning");
  assert.match(
    find(results, "serve.mqtt").summary,
    /not connected to 127\.0\.0\.1:1883 \(ECONNREFUSED\)/,
  );
  assert.match(
    find(results, "camera.garden").summary,
    /^garden \(95270000GARDENXX0001\): fresh, last heartbeat 3 s ago from 192\.168\.1\.23:40000$/,
  );
  assert.equal(find(results, "camera.porch").verdict, "warning");
  const shed = find(results, "camera.shed");
  assert.equal(shed.verdict, "problem");
  assert.match(shed.remedy!, /reboot it/); // DNS is redirected, so the camera's cache is likely
  assert.equal(find(results, "box.push_port_privilege").verdict, "warning");
  assert.equal(find(results, "box.rmem_max").verdict, "warning");
  assert.equal(find(results, "box.port.middleman").verdict, "ok");
  assert.equal(results.some((entry) => entry.id === "cameras.unexplained"), false);
});

Deno.test("doctor checks: heartbeats no DNS answer explains; a never-seen camera blames DNS", () => {
  const cloud = (): DnsOutcome => ({ kind: "answer", addresses: ["47.88.1.2"] });
  const results = runChecks(
    facts(cloud, [camera("garden", "fresh", 1000), camera("shed", "never_seen", null)]),
  );
  assert.match(
    find(results, "cameras.unexplained").summary,
    /heartbeats arrive \(192\.168\.1\.23\)/,
  );
  assert.match(find(results, "camera.shed").remedy!, /^Likely cause: DNS not redirected/);
});

Deno.test("doctor checks: the system resolver only warns when --dns names the cameras' resolver", () => {
  const cloud = (): DnsOutcome => ({ kind: "answer", addresses: ["47.88.1.2"] });
  const base = facts(cloud);
  const system = { ...base.resolvers[0], source: "system" as const, server: "127.0.0.53:53" };
  const alone = runChecks({ ...base, resolvers: [system] });
  assert.equal(find(alone, "dns.system.127.0.0.53:53").verdict, "problem");
  const withFlag = runChecks({ ...base, resolvers: [system, base.resolvers[0]] });
  assert.equal(find(withFlag, "dns.system.127.0.0.53:53").verdict, "warning");
});

Deno.test("doctor outcome: unreachable and refused win over problems; ports held by others", () => {
  const ok = (): DnsOutcome => ({ kind: "answer", addresses: ["192.168.1.10"] });
  const down = facts(ok, [], {
    serve: {
      url: "http://127.0.0.1:9",
      reach: "unreachable",
      error: "x",
      status: null,
      cameras: null,
    },
    box: {
      uid: 0,
      netBindService: true,
      ambientNetBindService: false,
      unprivilegedPortStart: 1024,
      rmemMax: 8388608,
      sockets: [{ protocol: "udp", address: "0.0.0.0:9999", port: 9999, uid: 1000 }],
    },
  });
  const results = runChecks(down);
  assert.equal(doctorOutcome(down, results), "unreachable");
  const held = find(results, "box.port.middleman");
  assert.equal(held.verdict, "problem");
  assert.match(
    held.summary,
    /UDP 9999 \(middleman\): in use by another program \(0\.0\.0\.0:9999, uid 1000\)/,
  );
  assert.match(held.remedy!, /ss -ulnp 'sport = :9999'/);
  assert.equal(find(results, "box.port.push").verdict, "ok");
  assert.equal(results.some((entry) => entry.group === "cameras"), false);
  const refused = { ...down, serve: { ...down.serve, reach: "refused" as const } };
  assert.equal(doctorOutcome(refused, runChecks(refused)), "refused");
});

/** A camera document as a serve with the history sends it: with its `drain`. */
function withDrain(document: CameraDocument, drain: unknown): CameraDocument {
  return Object.assign(document, { drain });
}

Deno.test("doctor drain: a warning per camera and requester over the threshold, with the remedy", () => {
  const here = (): DnsOutcome => ({ kind: "answer", addresses: ["192.168.1.10"] });
  const cameras = [
    withDrain(camera("garden", "fresh", 3000), [
      { requester: "192.168.1.5", wakes: 48, threshold: 24 },
      { requester: "mqtt", wakes: 30, threshold: 24 },
    ]),
    withDrain(camera("porch", "fresh", 2000), [{ requester: "motion", wakes: 25, threshold: 24 }]),
    withDrain(camera("shed", "fresh", 1000), []),
  ];
  const results = runChecks(facts(here, cameras));
  // What `--json` prints for it, one line: every field of the result.
  assert.deepEqual(find(results, "camera.garden.drain.192.168.1.5"), {
    group: "cameras",
    id: "camera.garden.drain.192.168.1.5",
    verdict: "warning",
    summary: "192.168.1.5 woke garden 48 times in 24 h (more than 24)",
    details: [],
    remedy: "Each wake costs battery: lower that client's polling (a dashboard card that " +
      "reopens a stream, an integration that polls), or set [wake_server] max_wakes_per_hour.",
  });
  // Requesters without an address get the remedy of their kind.
  const mqtt = find(results, "camera.garden.drain.mqtt");
  assert.equal(mqtt.summary, "mqtt woke garden 30 times in 24 h (more than 24)");
  assert.match(mqtt.remedy!, /control\/wakeup/);
  assert.match(find(results, "camera.porch.drain.motion").remedy!, /wake_on_motion/);
  // Warnings, not problems: the set-up works, it costs battery.
  const drains = results.filter((entry) => entry.id.includes(".drain"));
  assert.deepEqual(drains.map((entry) => entry.verdict), ["warning", "warning", "warning"]);
  assert.equal(results.some((entry) => entry.id === "cameras.drain"), false);
  // The drain lines come after the camera lines, in the cameras group.
  const ids = results.filter((entry) => entry.group === "cameras").map((entry) => entry.id);
  assert.deepEqual(ids, [
    "camera.garden",
    "camera.porch",
    "camera.shed",
    "camera.garden.drain.192.168.1.5",
    "camera.garden.drain.mqtt",
    "camera.porch.drain.motion",
  ]);
});

Deno.test("doctor drain: ok when nobody drains, silent for an older serve, odd entries skipped", () => {
  const here = (): DnsOutcome => ({ kind: "answer", addresses: ["192.168.1.10"] });
  const quiet = runChecks(facts(here, [withDrain(camera("garden", "fresh", 3000), [])]));
  const ok = find(quiet, "cameras.drain");
  assert.equal(ok.verdict, "ok");
  assert.equal(ok.remedy, null);
  // A serve without the history sends no `drain`: no line at all.
  const older = runChecks(facts(here, [camera("garden", "fresh", 3000)]));
  assert.deepEqual(older.filter((entry) => entry.id.includes("drain")), []);
  // Serve is outside input: entries that are not what it sends are skipped, and text from it
  // cannot steer the terminal.
  const odd = runChecks(facts(here, [
    withDrain(camera("garden", "fresh", 3000), [
      null,
      "192.168.1.5",
      { requester: 5, wakes: 48, threshold: 24 },
      { requester: "192.168.1.6", wakes: "48", threshold: 24 },
      { requester: "evil\u001b[2J\nclient", wakes: 99, threshold: 24 },
    ]),
    withDrain(camera("porch", "fresh", 3000), "not a list"),
  ]));
  const drains = odd.filter((entry) => entry.id.includes("drain"));
  assert.equal(drains.length, 1);
  assert.equal(drains[0].summary, "evil?[2J?client woke garden 99 times in 24 h (more than 24)");
});
