/**
 * The timeline summary's camera table: more cameras than its first allocation (it grows),
 * up to MAX_SUMMARY_CAMERAS detailed and the rest counted, and heartbeat intervals per
 * camera kept apart.
 */

import assert from "node:assert/strict";
import { message, type Packet } from "../lib/bcudp/mod.ts";
import { MAX_SUMMARY_CAMERAS, SummaryBuilder } from "../lib/pcap/summary.ts";
import type { BcUdpEntry } from "../lib/pcap/timeline_entry.ts";

function heartbeat(uid: string, source: string, time: number): BcUdpEntry {
  const packet: Packet = {
    kind: "discovery",
    tid: 1,
    crc: 0,
    message: message("D2R_HB", { uid, needrsp: 1, token: 1n }),
    xml: "",
  };
  return {
    kind: "bcudp",
    decoded: { packet },
    frame: 0,
    offset: 0,
    time,
    seconds: time,
    nanos: 0,
    source,
    destination: "10.0.0.1:58200",
  };
}

const uidOf = (index: number) => `9527${String(index).padStart(12, "0")}ABCD`;

Deno.test("pcap summary: cameras past the first table size keep their own figures", () => {
  const summary = new SummaryBuilder();
  const cameras = 1000;
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < cameras; i++) {
      const entry = heartbeat(uidOf(i), `10.0.${i >> 8}.${i & 0xff}:${round ? 6000 : 5000}`, 0);
      entry.time = round * (10 + (i % 7)) + i / 1000;
      summary.packet(entry, uidOf(i));
    }
  }
  const result = summary.result();
  assert.equal(result.cameras.length, cameras);
  assert.equal(result.camerasNotDetailed, 0);
  for (const [i, camera] of result.cameras.entries()) {
    assert.equal(camera.uid, uidOf(i));
    assert.equal(camera.heartbeats, 3);
    assert.deepEqual(camera.addresses, [
      `10.0.${i >> 8}.${i & 0xff}:5000`,
      `10.0.${i >> 8}.${i & 0xff}:6000`,
    ]);
    const interval = 10 + (i % 7);
    assert.equal(camera.firstSeen, i / 1000);
    assert.equal(camera.lastSeen, 2 * interval + i / 1000);
    assert.ok(Math.abs(camera.heartbeatInterval!.mean - interval) < 1e-9);
    assert.ok(Math.abs(camera.heartbeatInterval!.min - interval) < 1e-9);
    assert.ok(Math.abs(camera.heartbeatInterval!.max - interval) < 1e-9);
  }
});

Deno.test("pcap summary: cameras beyond MAX_SUMMARY_CAMERAS are counted once each", () => {
  const summary = new SummaryBuilder();
  const extra = 25;
  for (let i = 0; i < MAX_SUMMARY_CAMERAS + extra; i++) {
    summary.packet(heartbeat(uidOf(i), "10.0.0.2:5000", i), uidOf(i));
  }
  // Seen again: the detailed ones are updated, the others not counted twice.
  for (let i = 0; i < MAX_SUMMARY_CAMERAS + extra; i++) {
    summary.packet(heartbeat(uidOf(i), "10.0.0.2:5000", 1e6 + i), uidOf(i));
  }
  const result = summary.result();
  assert.equal(result.cameras.length, MAX_SUMMARY_CAMERAS);
  assert.equal(result.camerasNotDetailed, extra);
  assert.equal(result.cameras[MAX_SUMMARY_CAMERAS - 1].heartbeats, 2);
  assert.equal(result.cameras[0].lastSeen, 1e6);
});
