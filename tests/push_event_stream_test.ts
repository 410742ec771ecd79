/**
 * `GET /api/events/stream` over a real HTTP listener: one `data:` line of JSON per event,
 * heartbeat comments, the client cap, freed slots, a clean end when the API closes, and a
 * client that stops reading being dropped instead of queueing without end.
 */

import assert from "node:assert/strict";
import { type HttpApi, startHttpApi } from "../lib/api/http.ts";
import { DEFAULT_API_LIMITS } from "../lib/api/config.ts";
import { EventStreams, MAX_QUEUED_CHUNKS } from "../lib/api/event_stream.ts";
import { RecentEvents } from "../lib/api/events.ts";

const AT = Date.UTC(2026, 10, 29, 4, 0, 0);

const motion = (on: boolean, at = AT) => ({
  type: "motion" as const,
  uid: "95270000ABCDEFGH0123",
  name: "garden",
  motion: on,
  at,
});

async function withStreams(
  options: { maxClients: number; heartbeatMs?: number },
  body: (events: RecentEvents, url: string, api: HttpApi, streams: EventStreams) => Promise<void>,
) {
  const events = new RecentEvents();
  const streams = new EventStreams(events, options);
  const api = await startHttpApi({
    listen: { host: "127.0.0.1", port: 0 },
    token: null,
    routes: [streams.route()],
    limits: DEFAULT_API_LIMITS,
  });
  try {
    await body(events, `http://127.0.0.1:${api.address.port}/api/events/stream`, api, streams);
  } finally {
    await api.close();
    streams.close();
  }
}

/** Reads SSE text until `done(text)` holds; fails after a bound. */
async function readUntil(
  reader: ReadableStreamDefaultReader<string>,
  done: (text: string) => boolean,
  sofar = "",
): Promise<string> {
  let text = sofar;
  const deadline = Date.now() + 5000;
  while (!done(text)) {
    if (Date.now() > deadline) throw new Error(`stream text so far: ${JSON.stringify(text)}`);
    const chunk = await reader.read();
    if (chunk.done) throw new Error(`stream ended; text: ${JSON.stringify(text)}`);
    text += chunk.value;
  }
  return text;
}

function open(url: string) {
  return fetch(url).then((response) => ({
    response,
    reader: response.body!.pipeThrough(new TextDecoderStream()).getReader(),
  }));
}

Deno.test("each event is one data line of JSON; quiet streams get heartbeat comments", async () => {
  await withStreams({ maxClients: 2, heartbeatMs: 100 }, async (events, url) => {
    const { response, reader } = await open(url);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type")!, /^text\/event-stream/);
    let text = await readUntil(reader, (t) => t.includes(": connected\n\n"));
    events.add(motion(true));
    events.add({
      type: "registered",
      uid: "95270000ABCDEFGH0123",
      name: null,
      address: "127.0.0.5:4000",
      at: AT,
    });
    text = await readUntil(reader, (t) => (t.match(/^data: /gm) ?? []).length === 2, text);
    const frames = text.split("\n\n").filter((block) => block.startsWith("data: "));
    assert.deepEqual(frames.map((frame) => frame.split("\n").length), [1, 1], "one line each");
    assert.deepEqual(JSON.parse(frames[0].slice(6)), {
      ...motion(true),
      at: "2026-11-29T04:00:00.000Z",
    });
    assert.equal(JSON.parse(frames[1].slice(6)).type, "registered");
    await readUntil(reader, (t) => t.includes(": heartbeat\n\n"), text);
    await reader.cancel();
  });
});

Deno.test("one stream over max_event_streams is 503; a closed stream frees its slot", async () => {
  await withStreams({ maxClients: 2 }, async (_events, url, _api, streams) => {
    const first = await open(url);
    const second = await open(url);
    const third = await fetch(url);
    assert.equal(third.status, 503);
    assert.match((await third.json()).error, /max_event_streams/);
    const clients = () => streams.clients;
    assert.equal(clients(), 2);
    await first.reader.cancel();
    for (let i = 0; i < 50 && clients() !== 1; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(clients(), 1, "the cancelled stream left");
    const again = await open(url);
    assert.equal(again.response.status, 200);
    await again.reader.cancel();
    await second.reader.cancel();
  });
});

Deno.test("closing the API ends open streams cleanly", async () => {
  await withStreams({ maxClients: 4 }, async (_events, url, api, streams) => {
    const { reader } = await open(url);
    await readUntil(reader, (t) => t.includes(": connected"));
    const closed = api.close();
    let ended = false;
    while (!ended) ended = (await reader.read()).done;
    await closed;
    assert.equal(streams.clients, 0);
  });
});

Deno.test("a client that stops reading is dropped, not queued without end", async () => {
  const events = new RecentEvents();
  const streams = new EventStreams(events, { maxClients: 1 });
  try {
    const response = await streams.route().handle(new Request("http://x/api/events/stream"), {});
    assert.equal(streams.clients, 1);
    for (let i = 0; i <= MAX_QUEUED_CHUNKS + 1; i++) events.add(motion(i % 2 === 0, AT + i));
    assert.equal(streams.clients, 0);
    await assert.rejects(response.body!.getReader().read(), /stopped reading/);
  } finally {
    streams.close();
  }
});
