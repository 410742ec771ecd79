/**
 * The rewrites of `deno bundle`'s output the release ships (scripts/bundle_output.ts): dynamic
 * imports Deno does not load ahead, with the source map still pointing at the right code, and
 * file names that depend on the content only. The whole bundle is run by the release tests.
 */

import assert from "node:assert/strict";
import {
  lazyDynamicImports,
  lazyRequire,
  replaceNames,
  shiftMappings,
  stableNames,
  writeVlq,
} from "../scripts/bundle_output.ts";

Deno.test("bundle: a dynamic import is wrapped and the source map's later columns move with it", () => {
  // a();import("./x-ABCDEFGH.js");b()  -- segments at columns 0 (a), 4 (import), 11 (the
  // string), 30 (b): deltas 0, 4, 7, 19.
  const code = 'a();import("./x-ABCDEFGH.js");b()';
  const lazy = lazyDynamicImports(code, "A,I,O,mB");
  assert.equal(lazy.code, 'a();import(("./x-ABCDEFGH.js"));b()');
  // Now at 0, 4, 12 and 32: deltas 0, 4, 8, 20.
  assert.equal(lazy.mappings, "A,I,Q,oB");
  assert.equal(lazy.code.indexOf("b()"), 32);
  assert.equal(lazy.code.indexOf('"./x'), 12);
});

Deno.test("bundle: imports on later lines and files without one", () => {
  const code = 'x;\nimport("../y-ABCDEFGH.js")';
  const lazy = lazyDynamicImports(code, "A;A,OA");
  assert.equal(lazy.code, 'x;\nimport(("../y-ABCDEFGH.js"))');
  assert.equal(lazy.mappings, "A;A,QA"); // the string moved from 7 to 8 on the second line
  assert.deepEqual(lazyDynamicImports("no imports", "AAAA"), {
    code: "no imports",
    mappings: "AAAA",
  });
  assert.equal(shiftMappings("AAAA", 3, 0, 1), "AAAA", "a line past the end changes nothing");
});

Deno.test("bundle: file names come from the content, not from esbuild's hashes", async () => {
  const build = (a: string, b: string) =>
    new Map([
      [`main-${a}.js`, `import "./chunk-${b}.js";main()`],
      [`chunk-${b}.js`, "export const x = 1"],
      ["entry.js", `import("./main-${a}.js")`],
    ]);
  const first = await stableNames(build("AAAAAAAA", "BBBBBBBB"));
  const second = await stableNames(build("CCCCCCCC", "DDDDDDDD"));
  assert.deepEqual([...first.values()], [...second.values()]);
  assert.ok(!first.has("entry.js"), "an entry keeps its name");
  for (const name of first.values()) assert.match(name, /^(main|chunk)-[0-9A-F]{8}\.js$/);
  const text = 'import("./main-AAAAAAAA.js");//# sourceMappingURL=main-AAAAAAAA.js.map';
  assert.equal(
    replaceNames(text, first),
    `import("./${first.get("main-AAAAAAAA.js")}");//# sourceMappingURL=${
      first.get("main-AAAAAAAA.js")
    }.map`,
  );
  await assert.rejects(
    () => stableNames(new Map([["a-AAAAAAAA.js", "same"], ["a-BBBBBBBB.js", "same"]])),
    /two files named a-/,
  );
});

Deno.test("bundle: the bundler's require is made at its first call; another node:module import stops the build", () => {
  const shim = 'import{createRequire as __deno_internal_createRequire} from "node:module";' +
    "var m=__deno_internal_createRequire(import.meta.url);";
  const code = `var a=1;${shim}var b=2;export{m as a}`;
  // Segments at 0 (var a), 8 (the shim: not mapped) and after it (var b).
  const after = 8 + shim.length;
  const lazy = lazyRequire(code, `A,${writeVlq(after)}`);
  assert.doesNotMatch(lazy.code, /from "node:module"/);
  assert.match(lazy.code, /^var a=1;var __deno_internal_require,m=\(id\)=>/);
  assert.equal(lazy.mappings, `A,${writeVlq(lazy.code.indexOf("var b"))}`);
  assert.deepEqual(lazyRequire("var x=1", "A"), { code: "var x=1", mappings: "A" });
  assert.throws(
    () => lazyRequire('import{createRequire}from"node:module";', "A"),
    /node:module is imported in a form lazyRequire does not know/,
  );
});

Deno.test("bundle: the lazy require loads Node's modules when called", async () => {
  const shim = 'import{createRequire as __deno_internal_createRequire} from "node:module";' +
    "var m=__deno_internal_createRequire(import.meta.url);";
  const module = await Deno.makeTempFile({ suffix: ".js" });
  try {
    await Deno.writeTextFile(module, lazyRequire(`${shim}export{m as require}`, "").code);
    const { require } = await import(`file://${module}`);
    assert.equal(typeof require("node:events").EventEmitter, "function");
  } finally {
    await Deno.remove(module);
  }
});
