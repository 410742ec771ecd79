/**
 * `lib/paths.ts` against `node:path`'s POSIX functions, the reference it replaces on serve's
 * path: the same answers for any path made of segments that matter ("", ".", "..", names,
 * repeated and trailing slashes).
 */

import assert from "node:assert/strict";
import path from "node:path";
import fc from "fast-check";
import { dirname, isAbsolute, join, resolve } from "../lib/paths.ts";

const segment = fc.constantFrom("", ".", "..", "a", "b.toml", "state", "..a", "~");
const pathText = fc.tuple(fc.boolean(), fc.array(segment, { maxLength: 6 }), fc.boolean())
  .map(([absolute, segments, trailing]) =>
    (absolute ? "/" : "") + segments.join("/") + (trailing ? "/" : "")
  );

Deno.test("paths: isAbsolute, join, resolve and dirname answer as node:path.posix does", () => {
  fc.assert(
    fc.property(pathText, fc.array(pathText, { maxLength: 4 }), (one, many) => {
      assert.equal(isAbsolute(one), path.posix.isAbsolute(one), one);
      assert.equal(dirname(one), path.posix.dirname(one), one);
      assert.equal(join(...many), path.posix.join(...many), JSON.stringify(many));
      assert.equal(resolve(...many), path.posix.resolve(...many), JSON.stringify(many));
    }),
    { numRuns: 5000 },
  );
});

Deno.test("paths: the configuration's cases", () => {
  assert.equal(join("/home/u", ".local", "state", "bairelay"), "/home/u/.local/state/bairelay");
  assert.equal(resolve("/etc/bairelay", "state"), "/etc/bairelay/state");
  assert.equal(resolve("/etc/bairelay", "../x/./y/"), "/etc/x/y");
  assert.equal(resolve("/etc", "/abs/z"), "/abs/z");
  assert.equal(dirname(resolve("/srv", "config.toml")), "/srv");
  assert.equal(resolve("rel"), `${Deno.cwd()}/rel`);
});
