/**
 * The capture reader and timeline on crafted captures: every file format variant, link
 * type and damage the issue lists (truncated file and packet, unknown link type, VLAN tags,
 * IPv6, nanosecond and big-endian files), fed through the streaming reader in small chunks.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  bcudpCrc,
  decodeDatagramLenient,
  encodeDiscovery,
  encodeDiscoveryXml,
  fieldsToJsonValue,
  HEADER_SIZE,
  message,
  parseMessage,
  writeDiscoveryPacket,
  writeMessage,
} from "../lib/bcudp/mod.ts";
import { anyMessage, anyTid } from "./support/codec_arbitraries.ts";
import {
  type ByteReader,
  ByteSource,
  ByteWriter,
  CaptureFormatError,
  concatBytes,
  DatagramDecoder,
  documentJsonBytes,
  entryJson,
  entryLine,
  FifoMap,
  LINKTYPE,
  MAX_RECORD_BYTES,
  MAX_SUMMARY_CAMERAS,
  NameCache,
  readCapture,
  showCapture,
  type TimelineEntry,
  type TimelineOptions,
  writeDocumentJson,
  writtenText,
} from "../lib/pcap/mod.ts";
import {
  type Flow,
  ipPacket,
  linkFrame,
  pcapHeader,
  pcapngBlock,
  pcapngInterface,
  pcapngPacket,
  pcapngSection,
  pcapngSimplePacket,
  type PcapOptions,
  pcapRecord,
} from "./support/pcap_builder.ts";
import { runCli } from "./support/run_cli.ts";

const UID = "9527000ABCDEFGHI0123";
const CAMERA: Flow = {
  source: "192.0.2.10",
  destination: "192.0.2.1",
  sourcePort: 40000,
  destinationPort: 9999,
};
const SERVER: Flow = {
  source: "192.0.2.1",
  destination: "192.0.2.10",
  sourcePort: 9999,
  destinationPort: 40000,
};
const D2M_Q_MESSAGE = message("D2M_Q", { uid: UID, r: 2 });
const D2M_Q = encodeDiscovery(D2M_Q_MESSAGE, 0x11);
const M2D_Q_R = encodeDiscovery(
  message("M2D_Q_R", {
    reg: { ip: "192.0.2.1", port: 58200 },
    log: { ip: "192.0.2.1", port: 58200 },
    timer: true,
    retry: true,
    rsp: 0,
    token: 77n,
    ac: 88,
  }),
  0x11,
);

function streamOf(bytes: Uint8Array, chunk: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + chunk));
      at += chunk;
    },
  });
}

/** Runs the timeline over `bytes` fed in `chunk`-byte pieces. */
async function timeline(bytes: Uint8Array, options: TimelineOptions = {}, chunk = 7) {
  const entries: TimelineEntry[] = [];
  const result = await showCapture(streamOf(bytes, chunk), options, (e) => entries.push(e));
  return { entries, lines: entries.map(entryLine), ...result };
}

function variants(entries: TimelineEntry[]): string[] {
  return entries.map((e) =>
    e.kind === "bcudp"
      ? (e.decoded.packet.kind === "discovery" ? e.decoded.packet.message.variant : e.kind)
      : e.kind
  );
}

function pcapFile(options: PcapOptions, records: [number, Uint8Array, number?][]): Uint8Array {
  return concatBytes([
    pcapHeader(options),
    ...records.map(([time, data, original]) => pcapRecord(options, time, data, original)),
  ]);
}

function udp(flow: Flow, payload: Uint8Array, linkType: number = LINKTYPE.ETHERNET) {
  return linkFrame(linkType, ipPacket(flow, "udp", payload));
}

for (
  const [name, options] of Object.entries<PcapOptions>({
    "little-endian µs": { linkType: LINKTYPE.ETHERNET },
    "big-endian µs": { linkType: LINKTYPE.ETHERNET, bigEndian: true },
    "little-endian ns": { linkType: LINKTYPE.ETHERNET, nano: true },
    "big-endian ns": { linkType: LINKTYPE.ETHERNET, bigEndian: true, nano: true },
  })
) {
  Deno.test(`pcap ${name}: frames, times and packets`, async () => {
    const file = pcapFile(options, [
      [1700000000.25, udp(CAMERA, D2M_Q)],
      [1700000000.500123, udp(SERVER, M2D_Q_R)],
    ]);
    const { entries, info } = await timeline(file);
    assert.equal(info.format, "pcap");
    assert.equal(info.byteOrder, options.bigEndian ? "big" : "little");
    assert.equal(info.resolution, options.nano ? "nano" : "micro");
    assert.deepEqual(variants(entries), ["D2M_Q", "M2D_Q_R"]);
    const second = entries[1] as Extract<TimelineEntry, { kind: "bcudp" }>;
    assert.equal(second.seconds, 1700000000);
    assert.ok(Math.abs(second.nanos - 500123000) < 1000, String(second.nanos));
    assert.ok(Math.abs(second.time - 0.250123) < 1e-6, String(second.time));
    assert.equal(second.source, "192.0.2.1:9999");
    assert.equal(second.destination, "192.0.2.10:40000");
  });
}

Deno.test("nanosecond pcap keeps nanoseconds", async () => {
  const options = { linkType: LINKTYPE.RAW, nano: true };
  const file = concatBytes([
    pcapHeader(options),
    pcapRecord(options, 0, ipPacket(CAMERA, "udp", D2M_Q)),
  ]);
  new DataView(file.buffer).setUint32(24 + 4, 123456789, true);
  const { entries } = await timeline(file);
  assert.equal((entries[0] as { nanos: number }).nanos, 123456789);
  assert.match(entryJson(entries[0]), /"timestamp":"1970-01-01T00:00:00\.123456789Z"/);
});

for (const bigEndian of [false, true]) {
  Deno.test(`pcapng ${bigEndian ? "big" : "little"}-endian: interfaces, resolutions, blocks`, async () => {
    const file = concatBytes([
      pcapngSection(bigEndian),
      pcapngInterface(LINKTYPE.ETHERNET, 6, bigEndian), // µs
      pcapngInterface(LINKTYPE.RAW, 9, bigEndian), // ns
      pcapngInterface(147, 6, bigEndian), // a link type nobody knows
      pcapngInterface(LINKTYPE.LINUX_SLL2, 0x80 | 20, bigEndian), // 2^-20 s
      pcapngBlock(0x0bad, new Uint8Array([1, 2, 3, 4, 5]), bigEndian), // unknown block
      pcapngPacket(0, 1_700_000_000_250_000n, udp(CAMERA, D2M_Q), bigEndian),
      pcapngPacket(2, 1_700_000_000_260_000n, new Uint8Array(30), bigEndian),
      pcapngPacket(1, 1_700_000_000_500_000_001n, ipPacket(SERVER, "udp", M2D_Q_R), bigEndian),
      pcapngPacket(3, 1_700_000_001n << 20n, udp(CAMERA, D2M_Q, LINKTYPE.LINUX_SLL2), bigEndian),
      pcapngBlock(5, new Uint8Array(16), bigEndian), // interface statistics: skipped
      pcapngSimplePacket(udp(SERVER, M2D_Q_R), bigEndian), // interface 0, no timestamp
    ]);
    const { entries, info } = await timeline(file, {}, 5);
    assert.equal(info.format, "pcapng");
    assert.equal(info.byteOrder, bigEndian ? "big" : "little");
    assert.equal(info.interfaces.length, 4);
    assert.equal(info.interfaces[3].unitsPerSecond, 2 ** 20);
    assert.equal(info.skippedBlocks, 2);
    assert.equal(info.frames, 5);
    assert.deepEqual(variants(entries), ["D2M_Q", "capture_error", "M2D_Q_R", "D2M_Q", "M2D_Q_R"]);
    const unknown = entries[1] as Extract<TimelineEntry, { kind: "capture_error" }>;
    assert.equal(unknown.issue.reason, "unknown_link_type");
    assert.equal(unknown.issue.frame, 2);
    assert.match(unknown.issue.message, /unknown link type 147 \(interface 2\)/);
    assert.match(unknown.issue.message, new RegExp(`at offset ${unknown.issue.offset}:`));
    const times = entries.filter((e) => e.kind === "bcudp").map((e) => [
      (e as { seconds: number }).seconds,
      (e as { nanos: number }).nanos,
    ]);
    assert.deepEqual(times, [
      [1700000000, 250000000],
      [1700000000, 500000001],
      [1700000001, 0],
      [1700000001, 0], // the simple packet block reuses the last timestamp
    ]);
  });
}

Deno.test("a second section may switch byte order", async () => {
  const file = concatBytes([
    pcapngSection(false),
    pcapngInterface(LINKTYPE.RAW),
    pcapngPacket(0, 1n, ipPacket(CAMERA, "udp", D2M_Q)),
    pcapngSection(true),
    pcapngInterface(LINKTYPE.ETHERNET, 6, true),
    pcapngPacket(0, 2n, udp(SERVER, M2D_Q_R), true),
  ]);
  const { entries } = await timeline(file);
  assert.deepEqual(variants(entries), ["D2M_Q", "M2D_Q_R"]);
});

Deno.test("a truncated pcap reports the offset and keeps the packets before it", async () => {
  const options = { linkType: LINKTYPE.ETHERNET };
  const whole = pcapFile(options, [[1, udp(CAMERA, D2M_Q)], [2, udp(SERVER, M2D_Q_R)]]);
  const secondRecord = 24 + 16 + udp(CAMERA, D2M_Q).length;
  for (const cut of [secondRecord + 10, secondRecord + 30]) {
    const { entries, summary } = await timeline(whole.subarray(0, cut));
    assert.deepEqual(variants(entries), ["D2M_Q", "capture_error"]);
    const issue = (entries[1] as Extract<TimelineEntry, { kind: "capture_error" }>).issue;
    assert.equal(issue.reason, "truncated_file");
    assert.equal(issue.offset, secondRecord);
    assert.match(
      entryLine(entries[1]),
      new RegExp(`^!  the file ends inside a record (header )?at offset ${secondRecord}`),
    );
    assert.deepEqual(summary.captureErrors, { truncated_file: 1 });
  }
  const { entries } = await timeline(whole.subarray(0, 10));
  assert.equal(
    (entries[0] as { issue: { message: string } }).issue.message.includes("file header"),
    true,
  );
});

Deno.test("a truncated pcapng block is reported", async () => {
  const file = concatBytes([
    pcapngSection(),
    pcapngInterface(LINKTYPE.ETHERNET),
    pcapngPacket(0, 1n, udp(CAMERA, D2M_Q)),
    pcapngPacket(0, 2n, udp(SERVER, M2D_Q_R)),
  ]);
  const { entries } = await timeline(file.subarray(0, file.length - 20));
  assert.deepEqual(variants(entries), ["D2M_Q", "capture_error"]);
  assert.match(entryLine(entries[1]), /the file ends inside a block at offset \d+/);
});

Deno.test("a packet cut by the snap length is reported; the next still decodes", async () => {
  const options = { linkType: LINKTYPE.ETHERNET, snapLength: 80 };
  const full = udp(CAMERA, D2M_Q);
  const file = pcapFile(options, [[1, full.subarray(0, 80), full.length], [
    2,
    udp(SERVER, M2D_Q_R),
  ]]);
  const { entries, summary } = await timeline(file);
  assert.deepEqual(variants(entries), ["capture_error", "M2D_Q_R"]);
  const issue = (entries[0] as Extract<TimelineEntry, { kind: "capture_error" }>).issue;
  assert.equal(issue.reason, "snap_length_cut");
  assert.equal(issue.offset, 24);
  assert.match(
    issue.message,
    /frame 1 at offset 24 \(192\.0\.2\.10:40000 -> 192\.0\.2\.1:9999\): the capture holds 38 of its UDP payload bytes/,
  );
  assert.deepEqual(summary.captureErrors, { snap_length_cut: 1 });
});

Deno.test("an impossible record length stops reading with a clear report", async () => {
  const options = { linkType: LINKTYPE.ETHERNET };
  const file = pcapFile(options, [[1, udp(CAMERA, D2M_Q)], [2, udp(SERVER, M2D_Q_R)]]);
  const second = 24 + 16 + udp(CAMERA, D2M_Q).length;
  new DataView(file.buffer).setUint32(second + 8, 0x7fffffff, true);
  const { entries } = await timeline(file);
  assert.deepEqual(variants(entries), ["D2M_Q", "capture_error"]);
  assert.match(entryLine(entries[1]), /record at offset \d+ claims 2147483647 captured bytes/);
});

Deno.test("VLAN tags (802.1Q and 802.1ad) are walked and shown", async () => {
  const options = { linkType: LINKTYPE.ETHERNET };
  const file = pcapFile(options, [
    [1, linkFrame(LINKTYPE.ETHERNET, ipPacket(CAMERA, "udp", D2M_Q), [100])],
    [2, linkFrame(LINKTYPE.ETHERNET, ipPacket(SERVER, "udp", M2D_Q_R), [200, 300])],
  ]);
  const { entries } = await timeline(file);
  assert.deepEqual(variants(entries), ["D2M_Q", "M2D_Q_R"]);
  assert.match(entryLine(entries[0]), /vlan=100$/);
  assert.match(entryJson(entries[1]), /"vlans":\[200,300\]/);
});

Deno.test("IPv6 with an extension header, IPv4 with options", async () => {
  const v6: Flow = { ...CAMERA, source: "2001:db8::10", destination: "2001:db8::1" };
  const options = { linkType: LINKTYPE.ETHERNET };
  const file = pcapFile(options, [
    [1, linkFrame(LINKTYPE.ETHERNET, ipPacket(v6, "udp", D2M_Q, { ipv6HopByHop: true }))],
    [
      2,
      linkFrame(
        LINKTYPE.ETHERNET,
        ipPacket(SERVER, "udp", M2D_Q_R, { ipv4Options: new Uint8Array([1, 1, 1, 0]) }),
      ),
    ],
  ]);
  const { entries } = await timeline(file);
  assert.deepEqual(variants(entries), ["D2M_Q", "M2D_Q_R"]);
  assert.match(entryLine(entries[0]), /\[2001:db8::10\]:40000 -> \[2001:db8::1\]:9999 {2}D2M_Q/);
});

Deno.test("IP fragments are reported, not decoded", async () => {
  const options = { linkType: LINKTYPE.RAW };
  const file = pcapFile(options, [[1, ipPacket(CAMERA, "udp", D2M_Q, { fragment: 0x2000 })]]);
  const { entries } = await timeline(file);
  assert.equal(entries.length, 1);
  assert.match(
    entryLine(entries[0]),
    /IPv4 fragment 192\.0\.2\.10 -> 192\.0\.2\.1 \(id 0, offset 0, more follow\)/,
  );
});

Deno.test("every link type: null/loop (IPv4, IPv6), cooked v1/v2, raw 101/228/229/12/14", async () => {
  const v6: Flow = { ...CAMERA, source: "fe80::1", destination: "fe80::2" };
  const cases: [number, Uint8Array][] = [
    [LINKTYPE.NULL, linkFrame(LINKTYPE.NULL, ipPacket(CAMERA, "udp", D2M_Q))],
    [LINKTYPE.NULL, linkFrame(LINKTYPE.NULL, ipPacket(v6, "udp", D2M_Q))],
    [LINKTYPE.LOOP, concatBytes([new Uint8Array([0, 0, 0, 2]), ipPacket(CAMERA, "udp", D2M_Q)])],
    [LINKTYPE.NULL, concatBytes([new Uint8Array([0, 0, 0, 24]), ipPacket(v6, "udp", D2M_Q)])],
    [LINKTYPE.LINUX_SLL, linkFrame(LINKTYPE.LINUX_SLL, ipPacket(v6, "udp", D2M_Q))],
    [LINKTYPE.LINUX_SLL2, linkFrame(LINKTYPE.LINUX_SLL2, ipPacket(CAMERA, "udp", D2M_Q))],
    [LINKTYPE.RAW, ipPacket(v6, "udp", D2M_Q)],
    [LINKTYPE.IPV4, ipPacket(CAMERA, "udp", D2M_Q)],
    [LINKTYPE.IPV6, ipPacket(v6, "udp", D2M_Q)],
    [LINKTYPE.RAW_ALT12, ipPacket(CAMERA, "udp", D2M_Q)],
    [LINKTYPE.RAW_ALT14, ipPacket(CAMERA, "udp", D2M_Q)],
  ];
  for (const [linkType, frame] of cases) {
    const { entries } = await timeline(pcapFile({ linkType }, [[1, frame]]));
    assert.deepEqual(variants(entries), ["D2M_Q"], `link type ${linkType}`);
  }
});

Deno.test("BcUdp by magic on any port, by --port, and decode errors", async () => {
  const odd: Flow = { ...CAMERA, sourcePort: 41000, destinationPort: 42000 };
  const badCrc = encodeDiscovery(message("D2M_Q", { uid: UID }), 7);
  badCrc[16] ^= 0xff;
  const options = { linkType: LINKTYPE.RAW };
  const file = pcapFile(options, [
    [1, ipPacket(odd, "udp", D2M_Q)], // magic on an unusual port
    [2, ipPacket({ ...odd, destinationPort: 53 }, "udp", new TextEncoder().encode("dns?"))], // not ours
    [3, ipPacket(odd, "udp", new TextEncoder().encode("garbage!"))], // ignored unless --port 42000
    [4, ipPacket(CAMERA, "udp", new Uint8Array([1, 2, 3]))], // port 9999: a decode error
    [5, ipPacket(CAMERA, "udp", badCrc)], // decodes, CRC flagged
    [6, ipPacket(CAMERA, "udp", encodeDiscoveryXml("<P2P><NOPE/></P2P>", 9))],
    [7, ipPacket({ ...CAMERA, destinationPort: 443 }, "tcp")], // push attempt
  ]);
  const plain = await timeline(file);
  assert.deepEqual(variants(plain.entries), [
    "D2M_Q",
    "decode_error",
    "D2M_Q",
    "decode_error",
    "push_attempt",
  ]);
  assert.match(plain.lines[1], /ERROR {4}truncated_header: /);
  assert.match(plain.lines[2], /CRC-MISMATCH$/);
  assert.match(entryJson(plain.entries[2]), /"crc_ok":false/);
  assert.match(plain.lines[3], /ERROR {4}unknown_variant: unknown variant <NOPE>/);
  assert.deepEqual(plain.summary.decodeErrors, { truncated_header: 1, unknown_variant: 1 });
  const withPort = await timeline(file, { ports: [42000] });
  assert.deepEqual(variants(withPort.entries), ["D2M_Q", "decode_error"]);
  assert.match(withPort.lines[1], /ERROR {4}bad_magic/);
});

Deno.test("uid and variant filters; the summary still counts everything", async () => {
  const other = encodeDiscovery(message("D2M_Q", { uid: "9527000ZZZZZZZZZ0999" }), 3);
  const file = pcapFile({ linkType: LINKTYPE.RAW }, [
    [1, ipPacket(CAMERA, "udp", D2M_Q)],
    [2, ipPacket(SERVER, "udp", M2D_Q_R)],
    [3, ipPacket({ ...CAMERA, source: "192.0.2.11" }, "udp", other)],
  ]);
  const byUid = await timeline(file, { uid: "9527000abcdefghi" });
  assert.deepEqual(variants(byUid.entries), ["D2M_Q", "M2D_Q_R"]); // the reply by endpoint
  assert.equal(byUid.summary.packets, 3);
  const byVariant = await timeline(file, { variants: ["m2d_q_r"] });
  assert.deepEqual(variants(byVariant.entries), ["M2D_Q_R"]);
});

Deno.test("the read buffer stays bounded whatever the capture size", async () => {
  const options = { linkType: LINKTYPE.RAW };
  const record = pcapRecord(options, 1, ipPacket(CAMERA, "udp", D2M_Q));
  const count = 20000;
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent === 0) controller.enqueue(pcapHeader(options));
      if (sent >= count) return controller.close();
      const batch = concatBytes(Array(100).fill(record));
      controller.enqueue(batch);
      sent += 100;
    },
  });
  const source = new ByteSource(stream, 4096);
  let frames = 0;
  const info = await readCapture(source, {
    frame: () => frames++,
    issue: (i) => assert.fail(i.message),
  });
  assert.equal(frames, count);
  assert.equal(info.frames, count);
  assert.equal(source.bytes.length, 4096);
});

/** A file-like reader over `bytes` whose reads return at most `sizes[i]` bytes, a tick later. */
function slowReader(bytes: Uint8Array, sizes: number[]): ByteReader & { reads: number } {
  let at = 0;
  return {
    reads: 0,
    async read(into: Uint8Array): Promise<number | null> {
      await Promise.resolve();
      if (at === bytes.length) return null;
      const count = Math.min(into.length, bytes.length - at, sizes[this.reads++ % sizes.length]);
      into.set(bytes.subarray(at, at + count));
      at += count;
      return count;
    },
  };
}

Deno.test("a file read ahead gives its bytes in order, whatever the read sizes and steps", async () => {
  const steps = fc.array(
    fc.oneof(
      fc.record({ ensure: fc.integer({ min: 1, max: 300 }), advance: fc.nat(300) }),
      fc.record({ skip: fc.nat(500) }),
    ),
    { maxLength: 40, size: "max" },
  );
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ maxLength: 3000, size: "max" }),
      fc.array(fc.integer({ min: 0, max: 700 }), { minLength: 1, maxLength: 5 }),
      steps,
      async (bytes, sizes, plan) => {
        // Reads of 0 bytes are allowed (the source reads again), but not only those.
        const source = new ByteSource(slowReader(bytes, [...sizes, 1]), 256);
        for (const step of plan) {
          const at = source.offset;
          if ("skip" in step) {
            const skipped = await source.skip(step.skip);
            assert.equal(skipped, Math.min(step.skip, bytes.length - at));
            continue;
          }
          const whole = await source.ensure(step.ensure);
          assert.equal(whole, at + step.ensure <= bytes.length);
          const held = whole ? step.ensure : source.available;
          assert.deepEqual(
            source.bytes.subarray(source.position, source.position + held),
            bytes.subarray(at, at + held),
          );
          source.advance(step.advance);
        }
        await source.close();
      },
    ),
    { numRuns: 150 },
  );
});

Deno.test("a file's read error reaches the reader of the bytes, and closing mid-read is quiet", async () => {
  const failing: ByteReader = {
    read: () => Promise.reject(new Deno.errors.PermissionDenied("read refused")),
  };
  await assert.rejects(() => new ByteSource(failing, 64).ensure(1), /read refused/);
  // A read-ahead under way when the source is closed (and then fails) is never left unhandled.
  let fail: (error: Error) => void = () => {};
  let reads = 0;
  const hanging: ByteReader = {
    read(into) {
      if (reads++ === 0) {
        into.set([1, 2, 3]);
        return Promise.resolve(3);
      }
      return new Promise((_, reject) => fail = reject);
    },
  };
  const source = new ByteSource(hanging, 64);
  assert.equal(await source.ensure(3), true);
  assert.equal(reads, 2); // the next read started as soon as the first bytes were taken
  await source.close();
  fail(new Deno.errors.BadResource("closed"));
  await new Promise((resolve) => setTimeout(resolve, 10));
});

Deno.test("input that is not a capture is refused", async () => {
  await assert.rejects(
    () => showCapture(streamOf(new TextEncoder().encode("hello world"), 4), {}, () => {}),
    (error) =>
      error instanceof CaptureFormatError && /not a pcap or pcapng capture/.test(error.message),
  );
  await assert.rejects(
    () => showCapture(streamOf(new Uint8Array(), 4), {}, () => {}),
    /the capture is empty/,
  );
});

Deno.test("CLI: reads stdin, reports unreadable files, summarises", async () => {
  const file = pcapFile({ linkType: LINKTYPE.RAW }, [
    [10, ipPacket(CAMERA, "udp", D2M_Q)],
    [10.5, ipPacket(SERVER, "udp", M2D_Q_R)],
  ]);
  const fromStdin = await runCli(["pcap-replay", "-"], { stdin: file });
  assert.equal(fromStdin.code, 0, fromStdin.stderr);
  assert.match(
    fromStdin.stdout,
    /^ {4}0\.000000 {2}192\.0\.2\.10:40000 -> 192\.0\.2\.1:9999 {2}D2M_Q {4}tid=0x00000011 uid=9527000ABCDEFGHI0123$/m,
  );
  assert.match(
    fromStdin.stdout,
    /^ {4}0\.500000 {2}192\.0\.2\.1:9999 -> 192\.0\.2\.10:40000 {2}M2D_Q_R {2}tid=0x00000011 reg=192\.0\.2\.1:58200 log=192\.0\.2\.1:58200 rsp=0 token=77 ac=88$/m,
  );
  assert.match(fromStdin.stdout, /^Summary: 2 frames, 2 BcUdp packets$/m);
  assert.equal(fromStdin.stderr, ""); // no progress bar when stderr is not a terminal
  const missing = await runCli(["pcap-replay", "/nonexistent/capture.pcap"]);
  assert.equal(missing.code, 2); // a file that cannot be read: 2, as in every subcommand
  assert.match(
    missing.stderr,
    /^bairelay: cannot read \/nonexistent\/capture\.pcap: no such file$/m,
  );
  const notCapture = await runCli(["pcap-replay", "-"], { stdin: "just text" });
  assert.equal(notCapture.code, 1);
  assert.match(notCapture.stderr, /-: not a pcap or pcapng capture/);
  const badPort = await runCli(["pcap-replay", "-", "--port", "70000"], { stdin: file });
  assert.equal(badPort.code, 2);
});

Deno.test("CLI: a progress bar on stderr only when stderr is a terminal", async () => {
  const options = { linkType: LINKTYPE.RAW };
  const record = pcapRecord(options, 1, ipPacket(CAMERA, "udp", D2M_Q));
  const dir = await Deno.makeTempDir({ prefix: "bairelay-pcap-progress-" });
  try {
    const path = `${dir}/big.pcap`;
    await Deno.writeFile(path, concatBytes([pcapHeader(options), ...Array(40000).fill(record)]));
    const main = new URL("../main.ts", import.meta.url).pathname;
    // script(1) gives the command a pseudo-terminal; stdout goes to /dev/null inside it.
    const command =
      `'${Deno.execPath()}' run -A --quiet '${main}' pcap-replay '${path}' > /dev/null`;
    const output = await new Deno.Command("script", {
      args: ["-qec", command, "/dev/null"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const terminal = new TextDecoder().decode(output.stdout);
    assert.equal(output.code, 0, terminal);
    assert.match(terminal, /\r\[#+ *\] \d+%/);
    const piped = await runCli(["pcap-replay", path, "--no-summary"]);
    assert.equal(piped.stderr, "");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a pcapng block over MAX_RECORD_BYTES is skipped without being held", async () => {
  const huge = new Uint8Array(MAX_RECORD_BYTES + 16);
  const view = new DataView(huge.buffer);
  view.setUint32(0, 0x0bad, true);
  view.setUint32(4, huge.length, true);
  view.setUint32(huge.length - 4, huge.length, true);
  const file = concatBytes([
    pcapngSection(),
    pcapngInterface(LINKTYPE.RAW),
    huge,
    pcapngPacket(0, 1n, ipPacket(CAMERA, "udp", D2M_Q)),
  ]);
  const source = new ByteSource(streamOf(file, 1 << 16), 4096);
  const issues: string[] = [];
  let frames = 0;
  await readCapture(source, { frame: () => frames++, issue: (i) => issues.push(i.reason) });
  assert.deepEqual(issues, ["record_too_large"]);
  assert.equal(frames, 1);
  assert.ok(source.bytes.length < MAX_RECORD_BYTES, `buffer grew to ${source.bytes.length}`);
});

Deno.test("the summary details at most MAX_SUMMARY_CAMERAS cameras and counts the rest", async () => {
  const options = { linkType: LINKTYPE.RAW };
  const records = [pcapHeader(options)];
  for (let i = 0; i <= MAX_SUMMARY_CAMERAS; i++) {
    const uid = `9527000${String(i).padStart(9, "0")}0123`;
    const query = encodeDiscovery(message("D2M_Q", { uid }), i);
    records.push(pcapRecord(options, 1 + i / 1000, ipPacket(CAMERA, "udp", query)));
  }
  const { summary } = await timeline(concatBytes(records), {}, 1 << 16);
  assert.equal(summary.cameras.length, MAX_SUMMARY_CAMERAS);
  assert.equal(summary.camerasNotDetailed, 1);
});

Deno.test("FifoMap keeps at most its capacity, forgetting the oldest first", () => {
  const map = new FifoMap<string, number>(3);
  for (const [key, value] of [["a", 1], ["b", 2], ["c", 3], ["b", 20], ["d", 4]] as const) {
    map.set(key, value);
  }
  assert.equal(map.size, 3);
  assert.equal(map.get("a"), undefined);
  assert.equal(map.get("b"), 20);
  assert.equal(map.get("d"), 4);
  for (let i = 0; i < 1000; i++) map.set(`k${i}`, i);
  assert.equal(map.size, 3);
  assert.deepEqual([map.get("k997"), map.get("k998"), map.get("k999")], [997, 998, 999]);
});

Deno.test("NameCache gives back a key's own name or nothing, for any u32 address and port", () => {
  // Eight slots for up to 200 keys: most keys land on a slot another key took.
  const key = fc.tuple(fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffff }));
  fc.assert(
    fc.property(
      fc.array(key, { maxLength: 200 }),
      fc.array(key, { maxLength: 50 }),
      (kept, asked) => {
        const cache = new NameCache(8);
        for (const [address, port] of kept) {
          const name = `${address}:${port}`;
          assert.equal(cache.set(address, port, name), name);
        }
        for (const [address, port] of [...kept, ...asked]) {
          const found = cache.get(address, port);
          if (found !== undefined) assert.equal(found, `${address}:${port}`);
        }
        const [lastAddress, lastPort] = kept.at(-1) ?? [1, 1];
        if (kept.length > 0) {
          assert.equal(
            cache.get(lastAddress, lastPort),
            `${lastAddress}:${lastPort}`,
          );
        }
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("ByteWriter writes integers, padded digits, bytes and text exactly", () => {
  fc.assert(fc.property(fc.maxSafeInteger(), (value) => {
    assert.equal(writtenText((writer) => writer.int(value)), String(value));
  }));
  fc.assert(fc.property(fc.maxSafeNat(), fc.integer({ min: 1, max: 20 }), (value, width) => {
    const expected = String(value).padStart(width, "0").slice(-width); // low digits kept
    assert.equal(writtenText((writer) => writer.padded(value, width)), expected);
  }));
  const chunks: string[] = [];
  const writer = new ByteWriter((bytes) => chunks.push(new TextDecoder().decode(bytes)), 64);
  const long = "x".repeat(100);
  writer.bytes(new TextEncoder().encode("short,"));
  writer.bytes(new TextEncoder().encode(long));
  writer.text("Grüße,");
  writer.padded(42, 4);
  writer.flush();
  assert.equal(chunks.join(""), `short,${long}Grüße,0042`);
});

Deno.test("ByteWriter.jsonString writes what JSON.stringify gives, for any string", () => {
  const special = fc.constantFrom(
    '"',
    "\\",
    "\n",
    "\t",
    "\u0000",
    "\u001f",
    "\u007f",
    "é",
    "\ud800",
    "😀",
  );
  const text = fc.array(
    fc.oneof(fc.string({ maxLength: 8 }), special, fc.string({ unit: "binary" })),
  )
    .map((parts) => parts.join(""));
  fc.assert(
    fc.property(text, fc.integer({ min: 1, max: 64 }), (value, size) => {
      const chunks: Uint8Array[] = [];
      const writer = new ByteWriter((bytes) => chunks.push(bytes.slice()), size);
      writer.jsonString(value);
      writer.flush();
      assert.equal(new TextDecoder().decode(concatBytes(chunks)), JSON.stringify(value));
    }),
    { numRuns: 500 },
  );
});

Deno.test("a document's JSON members, written piece by piece, are decode --json's", () => {
  const withUnknown = '<P2P><D2R_HB><uid>x</uid><needrsp>1</needrsp><token>1</token><extra a="1">' +
    "q\\</extra></D2R_HB></P2P>";
  fc.assert(
    fc.property(fc.oneof(anyMessage.map(writeMessage), fc.constant(withUnknown)), (xml) => {
      const parsed = parseMessage(xml);
      const unknown = parsed.unknown
        ? `,"unknown":${JSON.stringify(parsed.unknown.map(({ name, xml }) => ({ name, xml })))}`
        : "";
      const expected = `,"variant":"${parsed.variant}","fields":${
        JSON.stringify(fieldsToJsonValue(parsed))
      }${unknown},"xml":${JSON.stringify(xml)}`;
      assert.equal(writtenText((writer) => writeDocumentJson(writer, parsed, xml)), expected);
    }),
    { numRuns: 300 },
  );
});

Deno.test("a cached document's JSON bytes are whole, however much longer than its XML", () => {
  // Quotes double in JSON, and an unknown element's XML is written twice (in "unknown" and in
  // "xml"): the members run to about four times the document's length.
  const quotes = '"'.repeat(3000);
  const xml = `<P2P><D2R_HB><uid>x</uid><needrsp>1</needrsp><token>1</token><extra>${quotes}` +
    "</extra></D2R_HB></P2P>";
  const parsed = parseMessage(xml);
  const written = writtenText((writer) => writeDocumentJson(writer, parsed, xml));
  assert.ok(written.length > 4 * 3000);
  assert.equal(new TextDecoder().decode(documentJsonBytes(parsed, xml)), written);
});

Deno.test("the timeline's decoder decodes as the codec does, CRC check included", () => {
  const decoder = new DatagramDecoder();
  // Bodies of every length modulo 4, ASCII or not, valid UTF-8 or not, with the header's CRC
  // right or wrong; each decoded three times (parsed, then from the caches).
  const body = fc.oneof(
    anyMessage.map((msg) => new TextEncoder().encode(writeMessage(msg))),
    fc.uint8Array({ minLength: 0, maxLength: 70 }),
  );
  fc.assert(
    fc.property(body, anyTid, fc.boolean(), (plain, tid, breakCrc) => {
      const bytes = writeDiscoveryPacket(plain, tid, new Uint8Array(HEADER_SIZE + plain.length));
      if (breakCrc) bytes[16] ^= 1;
      const crcOk = bcudpCrc(bytes, HEADER_SIZE) === new DataView(bytes.buffer).getUint32(16, true);
      const expected = decodeDatagramLenient(bytes, { verifyCrc: false });
      for (let i = 0; i < 3; i++) {
        const got = decoder.decode(bytes);
        assert.deepEqual(got.packets.map((decoded) => decoded.packet), expected.packets);
        assert.deepEqual(got.error, expected.error);
        if (got.packets.length > 0) assert.equal(got.packets[0].crcOk, crcOk);
      }
    }),
    { numRuns: 400 },
  );
});

Deno.test("the decoder keeps a document from its second sight and serves it from then on", () => {
  const decoder = new DatagramDecoder();
  const decodes = [1, 2, 3, 4].map((tid) => decoder.decode(encodeDiscovery(D2M_Q_MESSAGE, tid)));
  assert.equal(decoder.cacheHits, 2); // the first two sights parse, the next two are hits
  assert.equal(decodes[0].packets[0].documentJson, undefined); // seen once: nothing kept
  const cached = decodes.slice(1).map(({ packets: [decoded] }) => decoded.documentJson);
  assert.ok(cached[0] !== undefined && cached.every((json) => json === cached[0]));
  const first = decodes[0].packets[0].packet;
  assert.ok(first.kind === "discovery");
  // What the cached bytes say is what the first sight writes without them.
  assert.equal(
    new TextDecoder().decode(cached[0]),
    writtenText((writer) => writeDocumentJson(writer, first.message, first.xml)),
  );
  for (const { packets: [decoded] } of decodes) {
    assert.equal(decoded.packet.kind === "discovery" && decoded.packet.message.variant, "D2M_Q");
  }
});

Deno.test("the summary's heartbeat interval: mean, min and max from the second heartbeat on", async () => {
  const heartbeat = (tid: number) =>
    udp(CAMERA, encodeDiscovery(message("D2R_HB", { uid: UID, token: 1n, needrsp: 1 }), tid));
  const once = { ...CAMERA, source: "192.0.2.11" };
  const other = encodeDiscovery(message("D2R_HB", { uid: "95270000OTHER0123", token: 2n }), 9);
  const bytes = pcapFile({ linkType: LINKTYPE.ETHERNET }, [
    [1, heartbeat(1)],
    [1.5, heartbeat(2)],
    [2, udp(once, other)],
    [3.5, heartbeat(3)],
  ]);
  const { summary } = await timeline(bytes);
  const camera = summary.cameras.find((c) => c.uid === UID)!;
  assert.equal(camera.heartbeats, 3);
  assert.deepEqual(camera.heartbeatInterval, { mean: 1.25, min: 0.5, max: 2 });
  const single = summary.cameras.find((c) => c.uid === "95270000OTHER0123")!;
  assert.equal(single.heartbeats, 1);
  assert.equal("heartbeatInterval" in single, false);
});

Deno.test("pcap-replay --json writes each packet with exactly the members decode --json gives", async () => {
  // The timeline writes its JSON as bytes for speed; this keeps it in step with `decode --json`.
  const fixtures = [...Deno.readDirSync("fixtures/captured")]
    .map((entry) => entry.name)
    .filter((name) => name.endsWith(".bin") && !name.startsWith("xml_"))
    .sort();
  const options = { linkType: LINKTYPE.ETHERNET };
  const flow: Flow = { ...CAMERA, destinationPort: 58200 };
  const records: [number, Uint8Array][] = fixtures.map((name, i) => [
    i,
    udp(flow, Deno.readFileSync(`fixtures/captured/${name}`)),
  ]);
  const dir = await Deno.makeTempDir({ prefix: "bairelay-pcap-shape-" });
  try {
    await Deno.writeFile(`${dir}/fixtures.pcap`, pcapFile(options, records));
    const timeline = await runCli(["pcap-replay", `${dir}/fixtures.pcap`, "--json"]);
    assert.equal(timeline.code, 0, timeline.stderr);
    const fromPcap = timeline.stdout.trim().split("\n").map((line) => JSON.parse(line))
      .filter((o) => o.kind !== "summary");
    const fromDecode: Record<string, unknown>[] = [];
    for (const name of fixtures) {
      const decoded = await runCli(["decode", "--json", "--file", `fixtures/captured/${name}`]);
      assert.equal(decoded.code, 0, decoded.stderr);
      fromDecode.push(...decoded.stdout.trim().split("\n").map((line) => JSON.parse(line)));
    }
    const shared = (o: Record<string, unknown>) => {
      const { datagram: _d, offset: _o, frame: _f, time: _t, timestamp: _s, ...rest } = o;
      const { source: _src, destination: _dst, ...members } = rest;
      return members;
    };
    assert.equal(fromPcap.length, fromDecode.length);
    assert.ok(
      fromDecode.some((o) => o.kind === "data") && fromDecode.some((o) => o.kind === "ack"),
    );
    fromPcap.forEach((o, i) =>
      assert.deepEqual(shared(o), shared(fromDecode[i]), `packet ${i + 1}`)
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
