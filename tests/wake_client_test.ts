/**
 * The wake client (lib/client) against scripted fake servers on real loopback sockets:
 * happy path, rsp -1/-3, dropped packets and resends, silence, garbage and wrong tids,
 * several servers, R2C_T, unusable replies, and the TCP port wait.
 */

import assert from "node:assert/strict";
import { message, type MessageOf } from "../lib/bcudp/mod.ts";
import {
  CameraTargetError,
  type ClientSocket,
  type Clock,
  parseServerSpec,
  resolveCameraTarget,
  ServerAddressError,
  waitForCameraPort,
  wakeCamera,
  type WakeOutcome,
  type WakeRequest,
} from "../lib/client/mod.ts";
import {
  type FakeWakeServer,
  openCameraPortLater,
  rspAnswer,
  startFakeWakeServer,
  type StepScript,
  withFakeWakeServer as withFake,
  wokenAnswer,
} from "./support/fake_wake_server.ts";
import { freeTcpPort } from "./support/serve_process.ts";

const UID = "95270000ABCDEFGH";

function requestFor(fakes: FakeWakeServer[], overrides: Partial<WakeRequest> = {}): WakeRequest {
  return {
    uid: UID,
    servers: fakes.map((fake) => ({ host: fake.middleman.ip, port: fake.middleman.port })),
    timeoutMs: 5000,
    ...overrides,
  };
}

function gaps(requests: { at: number }[]): number[] {
  return requests.slice(1).map((request, index) => request.at - requests[index].at);
}

function assertWoken(outcome: WakeOutcome): Extract<WakeOutcome, { result: "woken" }> {
  assert.equal(outcome.result, "woken", JSON.stringify(outcome));
  return outcome as Extract<WakeOutcome, { result: "woken" }>;
}

Deno.test("wakes a camera: C2M_Q then C2R_C with the fields the protocol asks for", async () => {
  await withFake({ camera: { ip: "127.0.0.9", port: 41000 }, sid: 777 }, async (fake) => {
    const outcome = assertWoken(await wakeCamera(requestFor([fake])));
    assert.deepEqual(outcome.camera, { ip: "127.0.0.9", port: 41000 });
    assert.equal(outcome.sid, 777);
    assert.equal(outcome.reply, "R2C_C_R");
    assert.equal(outcome.server, `127.0.0.1:${fake.middleman.port}`);
    assert.deepEqual(outcome.register, fake.register);

    assert.equal(fake.middlemanRequests.length, 1);
    const query = fake.middlemanRequests[0].packet.message;
    assert.deepEqual(query, message("C2M_Q", { uid: UID, p: "MAC" }));

    assert.equal(fake.registerRequests.length, 1);
    const { packet, from } = fake.registerRequests[0];
    const connect = packet.message as MessageOf<"C2R_C">;
    assert.equal(connect.variant, "C2R_C");
    assert.equal(connect.fields.uid, UID);
    assert.deepEqual(connect.fields.cli, { ip: "127.0.0.1", port: from.port });
    assert.deepEqual(connect.fields.relay, fake.register);
    assert.equal(connect.fields.debug, 0);
    assert.equal(connect.fields.family, 4);
    assert.equal(connect.fields.p, "MAC");
    assert.equal(connect.fields.r, 3);
    assert.ok(Number.isInteger(connect.fields.cid));
    assert.notEqual(packet.tid, fake.middlemanRequests[0].packet.tid, "a fresh tid per step");
  });
});

for (const rsp of [-1, -3]) {
  Deno.test(`rsp ${rsp} from the register means "not registered"`, async () => {
    await withFake({ register: { reply: rspAnswer(rsp) } }, async (fake) => {
      const outcome = await wakeCamera(requestFor([fake]));
      assert.equal(outcome.result, "not_registered");
      assert.equal(outcome.result === "not_registered" && outcome.rsp, rsp);
      assert.equal(fake.registerRequests.length, 1, "no resend after an answer");
    });
  });
}

Deno.test("C2M_Q is resent about every 500 ms until the middleman answers", async () => {
  await withFake({ middleman: { drop: 2 } }, async (fake) => {
    const outcome = assertWoken(await wakeCamera(requestFor([fake])));
    assert.equal(fake.middlemanRequests.length, 3);
    const tids = new Set(fake.middlemanRequests.map((request) => request.packet.tid));
    assert.equal(tids.size, 1, "resends keep the tid so late answers still match");
    for (const gap of gaps(fake.middlemanRequests)) assert.ok(gap >= 400 && gap <= 1200, `${gap}`);
    assert.ok(outcome.elapsedMs >= 900, `${outcome.elapsedMs}`);
  });
});

Deno.test("C2R_C is resent about every second until the register answers", async () => {
  await withFake({ register: { drop: 1 } }, async (fake) => {
    assertWoken(await wakeCamera(requestFor([fake])));
    assert.equal(fake.registerRequests.length, 2);
    const [gap] = gaps(fake.registerRequests);
    assert.ok(gap >= 850 && gap <= 2000, `${gap}`);
  });
});

Deno.test("a silent middleman times out at the middleman step, naming it", async () => {
  await withFake({ middleman: { silent: true } }, async (fake) => {
    const outcome = await wakeCamera(requestFor([fake], { timeoutMs: 1200 }));
    assert.equal(outcome.result, "timeout");
    if (outcome.result !== "timeout") return;
    assert.equal(outcome.step, "middleman");
    assert.deepEqual(outcome.asked, [`127.0.0.1:${fake.middleman.port}`]);
    assert.ok(outcome.attempts === 3 || outcome.attempts === 2, `${outcome.attempts}`);
    assert.equal(fake.middlemanRequests.length, outcome.attempts);
    assert.equal(fake.registerRequests.length, 0);
    assert.ok(outcome.elapsedMs >= 1150 && outcome.elapsedMs < 2500, `${outcome.elapsedMs}`);
  });
});

Deno.test("a silent register times out at the register step, naming it", async () => {
  await withFake({ register: { silent: true } }, async (fake) => {
    const outcome = await wakeCamera(requestFor([fake], { timeoutMs: 1500 }));
    assert.equal(outcome.result, "timeout");
    if (outcome.result !== "timeout") return;
    assert.equal(outcome.step, "register");
    assert.deepEqual(outcome.asked, [`127.0.0.1:${fake.register.port}`]);
    assert.equal(outcome.server, `127.0.0.1:${fake.middleman.port}`);
    assert.equal(fake.registerRequests.length, 2);
  });
});

Deno.test("garbage and replies with another tid are ignored", async () => {
  const wrongTidFirst: StepScript["reply"] = (request, fake) => [
    // Were this matched, the outcome would be "not registered".
    {
      message: message("R2C_C_R", { nat: "NULL", rsp: -1, ac: 0 }),
      tid: (request.tid ^ 0x55) >>> 0,
    },
    ...wokenAnswer(request, fake),
  ];
  const options = {
    middleman: { noise: ["garbage", "wrong_tid"] as ("garbage" | "wrong_tid")[] },
    register: { noise: ["garbage"] as "garbage"[], reply: wrongTidFirst },
  };
  await withFake(options, async (fake) => {
    assertWoken(await wakeCamera(requestFor([fake])));
  });
});

Deno.test("a server that only ever answers with another tid times out, counting what it ignored", async () => {
  const onlyWrongTids: StepScript["reply"] = (request, fake) =>
    wokenAnswer(request, fake).map((reply) => ({ ...reply, tid: (request.tid + 7) >>> 0 }));
  // R2C_T is also accepted by cid, so make this one carry a foreign cid.
  const foreign: StepScript["reply"] = (request, fake) =>
    onlyWrongTids(request, fake)!.map((reply) =>
      reply.message.variant === "R2C_T"
        ? { ...reply, message: { ...reply.message, fields: { ...reply.message.fields, cid: 1 } } }
        : reply
    );
  await withFake({ register: { reply: foreign, noise: ["garbage"] } }, async (fake) => {
    const outcome = await wakeCamera(requestFor([fake], { timeoutMs: 1500 }));
    assert.equal(outcome.result, "timeout");
    if (outcome.result !== "timeout") return;
    assert.equal(outcome.step, "register");
    assert.ok(outcome.ignored >= 3, `${outcome.ignored}`);
  });
});

Deno.test("with several servers the first to answer wins", async () => {
  const silent = await startFakeWakeServer({ middleman: { silent: true } });
  const slow = await startFakeWakeServer({ host: "127.0.0.2", middleman: { drop: 1 } });
  const quick = await startFakeWakeServer({ host: "127.0.0.3", sid: 99 });
  try {
    const outcome = assertWoken(await wakeCamera(requestFor([silent, slow, quick])));
    assert.equal(outcome.server, `127.0.0.3:${quick.middleman.port}`);
    assert.equal(outcome.sid, 99);
    for (const fake of [silent, slow, quick]) assert.equal(fake.middlemanRequests.length, 1);
    assert.equal(quick.registerRequests.length, 1);
    assert.equal(slow.registerRequests.length, 0);
  } finally {
    await Promise.all([silent, slow, quick].map((fake) => fake.close()));
  }
});

Deno.test("an R2C_T alone (fresh tid, our cid) confirms the wake", async () => {
  const tOnly: StepScript["reply"] = (request, fake) =>
    wokenAnswer(request, fake).filter((reply) => reply.message.variant === "R2C_T")
      .map((reply) => ({ ...reply, tid: (request.tid + 1) >>> 0 }));
  await withFake({ register: { reply: tOnly }, sid: 4242 }, async (fake) => {
    const outcome = assertWoken(await wakeCamera(requestFor([fake])));
    assert.equal(outcome.reply, "R2C_T");
    assert.equal(outcome.sid, 4242);
    assert.deepEqual(outcome.camera, fake.camera);
  });
});

Deno.test("unusable replies: no <reg>, a wrong variant, an unknown rsp", async (t) => {
  const cases: {
    name: string;
    options: Parameters<typeof startFakeWakeServer>[0];
    step: string;
    reason: RegExp;
  }[] = [
    {
      name: "M2C_Q_R without reg",
      options: { middleman: { reply: () => [{ message: message("M2C_Q_R", { rsp: -1 }) }] } },
      step: "middleman",
      reason: /names no register.*rsp -1/,
    },
    {
      name: "wrong variant with our tid",
      options: {
        register: { reply: () => [{ message: message("R2D_DC_R", { sid: 1, rsp: 0 }) }] },
      },
      step: "register",
      reason: /answered R2D_DC_R instead of R2C_C_R/,
    },
    {
      name: "rsp -7",
      options: { register: { reply: rspAnswer(-7) } },
      step: "register",
      reason: /refused the wake with rsp -7/,
    },
  ];
  for (const testCase of cases) {
    await t.step(testCase.name, async () => {
      await withFake(testCase.options, async (fake) => {
        const outcome = await wakeCamera(requestFor([fake]));
        assert.equal(outcome.result, "unusable");
        if (outcome.result !== "unusable") return;
        assert.equal(outcome.step, testCase.step);
        assert.match(outcome.reason, testCase.reason);
      });
    });
  }
});

Deno.test("host names go through the resolver; unresolvable names are a clear error", async () => {
  await withFake({}, async (fake) => {
    const resolveHost = (host: string) =>
      host === "p2p.example.test"
        ? Promise.resolve("127.0.0.1")
        : Promise.reject(new ServerAddressError(`cannot resolve server "${host}"`));
    const servers = [{ host: "nowhere.example.test", port: 1 }, {
      host: "p2p.example.test",
      port: fake.middleman.port,
    }];
    const outcome = assertWoken(
      await wakeCamera({ uid: UID, servers, timeoutMs: 3000 }, { resolveHost }),
    );
    assert.equal(outcome.server, `p2p.example.test:${fake.middleman.port}`);
    await assert.rejects(
      wakeCamera({ uid: UID, servers: servers.slice(0, 1), timeoutMs: 3000 }, { resolveHost }),
      (error) =>
        error instanceof ServerAddressError && /nowhere\.example\.test/.test(error.message),
    );
  });
});

/** A clock whose time moves only when the test says so. */
class ManualClock implements Clock {
  time = 1_000_000;
  #timers: { at: number; callback: () => void; id: number }[] = [];
  #next = 0;
  now(): number {
    return this.time;
  }
  setTimeout(callback: () => void, ms: number): unknown {
    const id = ++this.#next;
    this.#timers.push({ at: this.time + ms, callback, id });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.#timers = this.#timers.filter((timer) => timer.id !== handle);
  }
  /** Runs due timers in order while moving time forward by `ms`. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    while (true) {
      this.#timers.sort((a, b) => a.at - b.at);
      const timer = this.#timers[0];
      if (timer === undefined || timer.at > end) break;
      this.#timers.shift();
      this.time = timer.at;
      timer.callback();
      await Promise.resolve();
    }
    this.time = end;
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

Deno.test("resend schedule with an injected clock and socket: 500 ms, then the deadline", async () => {
  const clock = new ManualClock();
  const sent: number[] = [];
  const socket: ClientSocket = {
    localPort: 5555,
    send: () => sent.push(clock.now() - 1_000_000),
    onDatagram: () => {},
    onSendError: () => {},
    close: () => Promise.resolve(),
  };
  const pending = wakeCamera(
    { uid: UID, servers: [{ host: "127.0.0.1", port: 9999 }], timeoutMs: 2200 },
    { clock, openSocket: () => Promise.resolve(socket), randomU32: () => 42 },
  );
  await new Promise((resolve) => setTimeout(resolve, 0));
  await clock.advance(3000);
  const outcome = await pending;
  assert.deepEqual(sent, [0, 500, 1000, 1500, 2000]);
  assert.equal(outcome.result, "timeout");
  assert.equal(outcome.elapsedMs, 2200);
});

Deno.test("parseServerSpec: host, host:port, and clear errors", () => {
  assert.deepEqual(parseServerSpec("p2p.reolink.com"), { host: "p2p.reolink.com", port: 9999 });
  assert.deepEqual(parseServerSpec("127.0.0.1:19999"), { host: "127.0.0.1", port: 19999 });
  assert.throws(() => parseServerSpec("host:0"), /port "0" is not a number from 1 to 65535/);
  assert.throws(() => parseServerSpec("host:99999"), /port "99999"/);
  assert.throws(() => parseServerSpec("[::1]:9999"), /IPv6/);
  assert.throws(() => parseServerSpec(""), /empty server address/);
  assert.throws(() => parseServerSpec("bad host"), /not a host name/);
});

Deno.test("waitForCameraPort reports when the port starts accepting", async () => {
  const port = freeTcpPort("127.0.0.1");
  const camera = openCameraPortLater("127.0.0.1", port, 600);
  try {
    const outcome = await waitForCameraPort({ camera: { ip: "127.0.0.1", port }, timeoutMs: 5000 });
    assert.equal(outcome.result, "online");
    if (outcome.result !== "online") return;
    assert.ok(outcome.onlineMs >= 550 && outcome.onlineMs < 2500, `${outcome.onlineMs}`);
    assert.ok(outcome.attempts >= 2, `${outcome.attempts}`);
  } finally {
    await camera.close();
  }
});

Deno.test("waitForCameraPort gives up after its timeout with the last error", async () => {
  const port = freeTcpPort("127.0.0.1");
  const outcome = await waitForCameraPort({ camera: { ip: "127.0.0.1", port }, timeoutMs: 700 });
  assert.equal(outcome.result, "timeout");
  if (outcome.result !== "timeout") return;
  assert.equal(outcome.lastError, "ECONNREFUSED");
  assert.ok(outcome.attempts >= 2, `${outcome.attempts}`);
  assert.ok(outcome.elapsedMs >= 690 && outcome.elapsedMs < 1500, `${outcome.elapsedMs}`);
});

Deno.test("resolveCameraTarget: names first, then UIDs, long UIDs shortened", () => {
  const cameras = [{ name: "garden", uid: "95270000ABCDEFGH0123" }, {
    name: "95270000ZZZZZZZZ",
    uid: "95270000YYYYYYYY",
  }];
  assert.deepEqual(resolveCameraTarget("garden", cameras, "c.toml"), {
    name: "garden",
    uid: "95270000ABCDEFGH",
    shortenedFrom: "95270000ABCDEFGH0123",
  });
  assert.deepEqual(resolveCameraTarget("95270000ZZZZZZZZ", cameras, "c.toml"), {
    name: "95270000ZZZZZZZZ",
    uid: "95270000YYYYYYYY",
  });
  assert.deepEqual(resolveCameraTarget("95270000QQQQQQQQ", [], "c.toml"), {
    uid: "95270000QQQQQQQQ",
  });
  // Any case: sent as on the sticker.
  assert.deepEqual(resolveCameraTarget("95270000abcdefgh", [], "c.toml"), {
    uid: "95270000ABCDEFGH",
  });
  assert.throws(
    () => resolveCameraTarget("porch", cameras, "c.toml"),
    (error) =>
      error instanceof CameraTargetError &&
      /cameras are: garden, 95270000ZZZZZZZZ/.test(error.message),
  );
  assert.throws(
    () => resolveCameraTarget("porch", [], "c.toml"),
    /neither a UID nor a camera named in c\.toml \(it names no cameras\)/,
  );
  assert.throws(() => resolveCameraTarget("9527-0000-ABCD-EFGH", [], "c.toml"), CameraTargetError);
});
