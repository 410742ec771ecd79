/**
 * Keeps the house plan: imports flow downward. Reads the import graph of every entry point
 * (main.ts, cli/, lib/, scripts/, bench/) as Deno resolves it (`deno info --json`, type-only
 * imports included: they tie files together as much as value imports do) and fails on any import
 * cycle between files, and on any import from lib/ into cli/, scripts/, bench/ or tests/.
 */

import assert from "node:assert/strict";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
/** Where the program's own files live; each is an entry point of the graph. */
const SOURCE_DIRS = ["cli", "lib", "scripts", "bench"];
/** What lib/ may never import: the layers built on top of it. */
const ABOVE_LIB = ["cli/", "scripts/", "bench/", "tests/"];

/** Repository-relative path -> the repository files it imports. */
type ImportGraph = Map<string, Set<string>>;

interface DenoInfo {
  modules: {
    specifier: string;
    dependencies?: { code?: { specifier: string }; type?: { specifier: string } }[];
  }[];
}

async function sourceFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(join(ROOT, dir))) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) files.push(...await sourceFiles(path));
    else if (entry.isFile && entry.name.endsWith(".ts")) files.push(path);
  }
  return files;
}

/** The repository path of a module specifier, or undefined for npm:, node: and outside files. */
function repositoryPath(specifier: string): string | undefined {
  if (!specifier.startsWith("file://")) return undefined;
  const path = relative(ROOT, fileURLToPath(specifier));
  return path.startsWith("..") ? undefined : path;
}

/**
 * The import graph of all entry points at once: `deno info` takes one module, so it reads a
 * temporary module that imports every entry point, resolved with the repository's deno.json.
 */
async function importGraph(): Promise<ImportGraph> {
  const entries = ["main.ts", ...(await Promise.all(SOURCE_DIRS.map(sourceFiles))).flat()];
  const dir = await Deno.makeTempDir({ prefix: "bairelay-import-graph-" });
  try {
    const root = join(dir, "all_entries.ts");
    const imports = entries.map((path) =>
      `import ${JSON.stringify(pathToFileURL(join(ROOT, path)).href)};`
    );
    await Deno.writeTextFile(root, imports.join("\n") + "\n");
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", "--config", join(ROOT, "deno.json"), root],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    assert.ok(output.success, `deno info failed:\n${decode(output.stderr)}`);
    const info: DenoInfo = JSON.parse(decode(output.stdout));
    const graph: ImportGraph = new Map();
    for (const module of info.modules) {
      const from = repositoryPath(module.specifier);
      if (!from) continue;
      const targets = (module.dependencies ?? [])
        .flatMap((dependency) => [dependency.code?.specifier, dependency.type?.specifier])
        .map((specifier) => specifier && repositoryPath(specifier))
        .filter((path): path is string => path !== undefined);
      graph.set(from, new Set(targets));
    }
    return graph;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Files that import each other in a circle, and one closed path through them (`a -> b -> a`). */
interface ImportCycle {
  files: string[];
  path: string[];
}

/**
 * Every import cycle: the strongly connected components of more than one file (Tarjan), and
 * self-imports, each with one closed path through it to show how the circle closes.
 */
function importCycles(graph: ImportGraph): ImportCycle[] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (file: string) => {
    index.set(file, index.size);
    low.set(file, index.get(file)!);
    stack.push(file);
    onStack.add(file);
    for (const next of graph.get(file) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(file, Math.min(low.get(file)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(file, Math.min(low.get(file)!, index.get(next)!));
      }
    }
    if (low.get(file) === index.get(file)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== file);
      if (component.length > 1 || graph.get(file)?.has(file)) components.push(component);
    }
  };
  for (const file of [...graph.keys()].sort()) if (!index.has(file)) visit(file);
  return components.map((component) => ({
    files: component.sort(),
    path: cycleWithin(graph, new Set(component)),
  }));
}

/** One closed path through the files of a strongly connected component, from its first file. */
function cycleWithin(graph: ImportGraph, component: Set<string>): string[] {
  const start = [...component].sort()[0];
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const next of [...(graph.get(file) ?? [])].sort()) {
      if (!component.has(next)) continue;
      if (next === start) {
        const path = [start];
        for (let at = file; at !== start; at = previous.get(at)!) path.splice(1, 0, at);
        return [...path, start];
      }
      if (!previous.has(next)) {
        previous.set(next, file);
        queue.push(next);
      }
    }
  }
  return [start, start];
}

const graph = await importGraph();

Deno.test("import graph: no import cycle between files", () => {
  const cycles = importCycles(graph);
  const shown = cycles.map((cycle) =>
    `  ${cycle.files.join(", ")}\n    for example ${cycle.path.join(" -> ")}`
  ).join("\n");
  assert.equal(cycles.length, 0, `${cycles.length} import cycle(s):\n${shown}`);
});

Deno.test("import graph: the cycle finder sees a circle of three and a self-import, not a diamond", () => {
  const sample: ImportGraph = new Map([
    ["a.ts", new Set(["b.ts", "d.ts"])],
    ["b.ts", new Set(["c.ts"])],
    ["c.ts", new Set(["a.ts"])],
    ["d.ts", new Set(["e.ts", "f.ts"])],
    ["e.ts", new Set(["g.ts"])],
    ["f.ts", new Set(["g.ts"])],
    ["g.ts", new Set(["g.ts"])],
  ]);
  assert.deepEqual(importCycles(sample), [
    { files: ["g.ts"], path: ["g.ts", "g.ts"] },
    { files: ["a.ts", "b.ts", "c.ts"], path: ["a.ts", "b.ts", "c.ts", "a.ts"] },
  ]);
});

Deno.test("import graph: lib/ imports nothing from cli/, scripts/, bench/ or tests/", () => {
  const upward = [...graph].filter(([from]) => from.startsWith("lib/")).flatMap(([from, targets]) =>
    [...targets]
      .filter((target) => ABOVE_LIB.some((dir) => target.startsWith(dir)))
      .map((target) => `  ${from} -> ${target}`)
  );
  assert.equal(upward.length, 0, `lib/ imports from the layers above it:\n${upward.join("\n")}`);
});

Deno.test("import graph: the graph covers main.ts and every source directory", () => {
  assert.ok(graph.has("main.ts"));
  for (const dir of SOURCE_DIRS) {
    assert.ok([...graph.keys()].some((file) => file.startsWith(`${dir}/`)), `no file of ${dir}/`);
  }
});
