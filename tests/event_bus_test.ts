/** The typed event bus serve's subsystems meet on. */

import assert from "node:assert/strict";
import { EventBus } from "../lib/event_bus.ts";

type Event = { type: "a"; n: number } | { type: "b"; text: string };

Deno.test("event bus: listeners hear their type only, in subscription order, until unsubscribed", () => {
  const bus = new EventBus<Event>();
  const heard: string[] = [];
  const first = bus.on("a", (event) => heard.push(`first ${event.n}`));
  bus.on("a", (event) => heard.push(`second ${event.n}`));
  bus.on("b", (event) => heard.push(`b ${event.text}`));
  bus.emit({ type: "a", n: 1 });
  bus.emit({ type: "b", text: "x" });
  first();
  bus.emit({ type: "a", n: 2 });
  assert.deepEqual(heard, ["first 1", "second 1", "b x", "second 2"]);
});

Deno.test("event bus: a listener that throws does not stop the others or the publisher", () => {
  const bus = new EventBus<Event>();
  const heard: number[] = [];
  bus.on("a", () => {
    throw new Error("boom");
  });
  bus.on("a", (event) => heard.push(event.n));
  bus.emit({ type: "a", n: 7 });
  assert.deepEqual(heard, [7]);
});

Deno.test("event bus: unsubscribing during an emit does not skip the other listeners", () => {
  const bus = new EventBus<Event>();
  const heard: string[] = [];
  const off = bus.on("a", () => {
    heard.push("once");
    off();
  });
  bus.on("a", () => heard.push("always"));
  bus.emit({ type: "a", n: 1 });
  bus.emit({ type: "a", n: 2 });
  assert.deepEqual(heard, ["once", "always", "always"]);
});
