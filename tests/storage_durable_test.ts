/**
 * Files in the state directory survive a power cut: the data is synced before the rename
 * and the directory after it (seen in the system calls a real write makes), a torn or empty
 * state file at start is kept aside and reported, and temporary files of a killed run go.
 */

import assert from "node:assert/strict";
import { removeLeftoverTemps, writeDurably } from "../lib/storage/durable_file.ts";
import { StateStore } from "../lib/wake/state.ts";
import { findProgram } from "./support/programs.ts";

const MODULE = new URL("../lib/storage/durable_file.ts", import.meta.url).href;

Deno.test("durable file: the text is written whole, replacing the old file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/state.json`;
    await Deno.writeTextFile(path, "old");
    const long = "x".repeat(200_000);
    await writeDurably(path, ["{", long, "}\n"]);
    assert.equal(await Deno.readTextFile(path), `{${long}}\n`);
    assert.deepEqual([...Deno.readDirSync(dir)].map((entry) => entry.name), ["state.json"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("durable file: data synced before the rename, directory synced after it", async (t) => {
  const strace = findProgram("strace");
  if (strace === undefined) {
    t.step({ name: "strace is not installed (apt-get install strace)", ignore: true, fn() {} });
    return;
  }
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/state.json`;
    const trace = `${dir}/trace.txt`;
    const code = `import { writeDurably } from "${MODULE}";\n` +
      `await writeDurably(${JSON.stringify(path)}, ["one", "two"]);`;
    const run = await new Deno.Command(strace, {
      args: [
        ...["-f", "-e", "trace=openat,fsync,fdatasync,rename,renameat,renameat2", "-o", trace],
        ...[Deno.execPath(), "eval", "--quiet", code],
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(run.code, 0, new TextDecoder().decode(run.stderr));
    const lines = (await Deno.readTextFile(trace)).split("\n");
    const temp = lines.findIndex((line) => /openat\(.*state\.json\.\d+\.tmp"/.test(line));
    const rename = lines.findIndex((line) =>
      /rename.*state\.json\.\d+\.tmp".*state\.json"/.test(line)
    );
    assert.ok(
      temp >= 0 && rename > temp,
      `no open of the temp file then rename:\n${lines.join("\n")}`,
    );
    // Deno syncs through a duplicate of the file's descriptor: any fsync in between counts.
    const isSync = (line: string) => /\bf(data)?sync\(\d+\)\s+= 0/.test(line);
    assert.ok(
      lines.slice(temp, rename).some(isSync),
      "the temp file is not synced before the rename",
    );
    const dirOpen = lines.findIndex((line, index) =>
      index > rename && line.includes(`openat(AT_FDCWD, "${dir}", O_RDONLY`)
    );
    assert.ok(dirOpen > rename, "the directory is not opened after the rename");
    assert.ok(lines.slice(dirOpen).some(isSync), "the directory is not synced after the rename");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("durable file: a killed run's temporary files are removed, nothing else", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/wake-state.json`;
    const keep = [
      "wake-state.json",
      "wake-state.json.abc.tmp",
      "other.json.12.tmp",
      "wake-state.json.12",
    ];
    for (const name of [...keep, "wake-state.json.12.tmp", "wake-state.json.999999.tmp"]) {
      await Deno.writeTextFile(`${dir}/${name}`, "");
    }
    const removed = (await removeLeftoverTemps(path)).map((p) => p.slice(dir.length + 1)).sort();
    assert.deepEqual(removed, ["wake-state.json.12.tmp", "wake-state.json.999999.tmp"]);
    assert.deepEqual([...Deno.readDirSync(dir)].map((entry) => entry.name).sort(), keep.sort());
    assert.deepEqual(await removeLeftoverTemps(`${dir}/missing/wake-state.json`), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

for (
  const [what, text] of [
    ["an empty state file", ""],
    [
      "a torn state file (cut mid-write)",
      '{\n "version": 1,\n "saved_at": 3,\n "cameras": [\n  {\n   "uid": "9527',
    ],
    ["a state file of NUL bytes (what some file systems leave)", "\0".repeat(4096)],
  ]
) {
  Deno.test(`state: ${what} at start is kept aside and reported, the registry starts empty`, async () => {
    const dir = await Deno.makeTempDir();
    try {
      const store = new StateStore(dir);
      await Deno.writeTextFile(store.path, text);
      const loaded = await store.load(Date.UTC(2026, 0, 2, 3, 4, 5));
      assert.deepEqual(loaded.cameras, []);
      assert.match(loaded.problem?.message ?? "", /state file .* is unusable: not JSON/);
      assert.equal(loaded.problem?.movedTo, `${store.path}.corrupt-2026-01-02T03-04-05-000Z`);
      assert.equal(await Deno.readTextFile(loaded.problem!.movedTo!), text);
      await store.save([], 1);
      assert.deepEqual((await store.load()).cameras, []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
