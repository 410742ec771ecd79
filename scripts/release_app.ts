/**
 * The application part of the portable release, in two steps scripts/release runs:
 *
 *   prune APP_DIR ENTRY...        deno.json's imports and deno.lock cut down to the npm packages
 *                                 the entry points reach (`deno info`), so the tarball's Deno
 *                                 cache holds no test-only package (fast-check, puppeteer-core)
 *   licenses NPM_CACHE OUT_DIR    every cached npm package's licence file(s) copied to
 *                                 OUT_DIR/NAME@VERSION/; fails naming the packages that ship none
 *   bundle SRC_DIR OUT_DIR ENTRY...  the entry points and everything they import, npm packages
 *                                 included, bundled into OUT_DIR (see `bundleApp`)
 *
 * Usage: deno run --allow-read --allow-write --allow-run scripts/release_app.ts STEP ARGS...
 */

import { basename, dirname, join } from "node:path";
import { lazyDynamicImports, lazyRequire, replaceNames, stableNames } from "./bundle_output.ts";

/** deno.lock (version 5): the parts the pruning touches. */
interface Lock {
  version: string;
  specifiers: Record<string, string>;
  npm: Record<string, { dependencies?: string[]; optionalDependencies?: string[] }>;
  workspace?: { dependencies?: string[] };
}

/** The licence files of an npm package, by name (LICENSE, LICENCE.md, COPYING, ...). */
const LICENSE_FILE = /^(licen[cs]e|copying|unlicense)([.-].*)?$/i;

/** A lock "npm" key's package name: "@scope/name@1.2.3_peer@4" -> "@scope/name". */
function packageName(key: string): string {
  return key.slice(0, key.indexOf("@", 1));
}

/** The "npm" keys reachable from `roots` (keys) through the lock's dependency lists. */
export function lockClosure(lock: Lock, roots: string[]): Set<string> {
  const keys = Object.keys(lock.npm);
  const resolve = (dependency: string) =>
    lock.npm[dependency] ? dependency : keys.find((key) => packageName(key) === dependency);
  const reached = new Set<string>();
  const pending = [...roots];
  while (pending.length > 0) {
    const key = pending.pop()!;
    if (reached.has(key)) continue;
    reached.add(key);
    const entry = lock.npm[key];
    for (const dependency of [...entry.dependencies ?? [], ...entry.optionalDependencies ?? []]) {
      const resolved = resolve(dependency);
      if (resolved === undefined) {
        throw new Error(`deno.lock: ${key} needs ${dependency}: no entry`);
      }
      pending.push(resolved);
    }
  }
  return reached;
}

/**
 * deno.json's text and deno.lock's text cut down to the npm packages in `used` ("name@version",
 * as `deno info` names them): imports of other packages and their lock entries go.
 */
export function pruneToPackages(
  denoJson: string,
  lockText: string,
  used: Set<string>,
): { denoJson: string; lock: string } {
  const config = JSON.parse(denoJson);
  const lock: Lock = JSON.parse(lockText);
  const kept = (specifier: string) =>
    used.has(specifier.replace(/^npm:\/?/, "").replace(/\/$/, ""));
  config.imports = Object.fromEntries(
    Object.entries(config.imports as Record<string, string>).filter(([, to]) => kept(to)),
  );
  lock.specifiers = Object.fromEntries(
    Object.entries(lock.specifiers).filter(([specifier]) => kept(specifier)),
  );
  const roots = Object.entries(lock.specifiers).map(([specifier, version]) =>
    `${packageName(specifier.slice("npm:".length))}@${version}`
  );
  const reached = lockClosure(lock, roots);
  lock.npm = Object.fromEntries(Object.entries(lock.npm).filter(([key]) => reached.has(key)));
  if (lock.workspace?.dependencies) {
    lock.workspace.dependencies = lock.workspace.dependencies.filter(kept);
  }
  return {
    denoJson: JSON.stringify(config, null, 2) + "\n",
    lock: JSON.stringify(lock, null, 2) + "\n",
  };
}

/** The npm packages ("name@version") the entry points reach, from `deno info --json`. */
async function reachedPackages(appDir: string, entries: string[]): Promise<Set<string>> {
  const used = new Set<string>();
  for (const entry of entries) {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", "--config", join(appDir, "deno.json"), join(appDir, entry)],
      stderr: "inherit",
    }).output();
    if (!output.success) throw new Error(`deno info ${entry} failed`);
    const info = JSON.parse(new TextDecoder().decode(output.stdout));
    for (const module of info.modules) if (module.kind === "npm") used.add(module.npmPackage);
  }
  return used;
}

async function prune(appDir: string, entries: string[]): Promise<void> {
  const used = await reachedPackages(appDir, entries);
  const pruned = pruneToPackages(
    await Deno.readTextFile(join(appDir, "deno.json")),
    await Deno.readTextFile(join(appDir, "deno.lock")),
    used,
  );
  await Deno.writeTextFile(join(appDir, "deno.json"), pruned.denoJson);
  await Deno.writeTextFile(join(appDir, "deno.lock"), pruned.lock);
  console.error(`scripts/release: the application's npm packages: ${[...used].sort().join(", ")}`);
}

/** The package directories (NAME/VERSION or @SCOPE/NAME/VERSION) of a Deno npm cache. */
async function packageDirs(npmCache: string): Promise<{ id: string; dir: string }[]> {
  const found: { id: string; dir: string }[] = [];
  const subdirs = async (dir: string) => {
    const names: string[] = [];
    for await (const entry of Deno.readDir(dir)) if (entry.isDirectory) names.push(entry.name);
    return names.sort();
  };
  for (const first of await subdirs(npmCache)) {
    const names = first.startsWith("@")
      ? (await subdirs(join(npmCache, first))).map((name) => `${first}/${name}`)
      : [first];
    for (const name of names) {
      for (const version of await subdirs(join(npmCache, name))) {
        found.push({ id: `${name}@${version}`, dir: join(npmCache, name, version) });
      }
    }
  }
  return found;
}

async function licenses(npmCache: string, outDir: string): Promise<void> {
  const missing: string[] = [];
  for (const { id, dir } of await packageDirs(npmCache)) {
    const files: string[] = [];
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isFile && LICENSE_FILE.test(entry.name)) files.push(entry.name);
    }
    if (files.length === 0) {
      missing.push(id);
      continue;
    }
    const target = join(outDir, id.replace("/", "__"));
    await Deno.mkdir(target, { recursive: true });
    for (const file of files) await Deno.copyFile(join(dir, file), join(target, basename(file)));
  }
  if (missing.length > 0) {
    throw new Error(`these npm packages ship no licence file: ${missing.join(", ")}`);
  }
}

/**
 * Bundles the entry points `entries` of the application in `srcDir` (with its deno.json and
 * deno.lock; npm packages from the Deno cache, downloading esbuild, which `deno bundle` runs)
 * into `outDir`: one minified module per entry (ENTRY with .js for .ts) and shared chunks, the
 * dynamic imports kept and not loaded ahead (what only a subcommand or an enabled subsystem needs
 * is read only then), Node's module loader for the CommonJS packages made when first used
 * (scripts/bundle_output.ts), a linked source map per file so that stack traces
 * name the source files and lines. What is shipped and measured: loading the bundle instead of
 * ~150 TypeScript modules and npm's resolution through deno.json takes ~5 MB less resident memory
 * (BENCHMARKS.md). The source maps drop the sources' text (the mappings are all a stack trace
 * needs); the files' names depend on their content only, so one tree gives the same bytes.
 */
export async function bundleApp(srcDir: string, outDir: string, entries: string[]) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      ...["bundle", "--quiet", "--frozen", "--config", join(srcDir, "deno.json")],
      ...["--platform", "deno", "--code-splitting", "--minify"],
      ...["--sourcemap", "linked", "--outdir", outDir],
      ...entries.map((entry) => join(srcDir, entry)),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    throw new Error(`deno bundle failed:\n${new TextDecoder().decode(output.stderr)}`);
  }
  // Every file is rewritten in memory, named after the result, then written once.
  const scripts = new Map<string, { code: string; map: { mappings: string } }>();
  for (const path of await filesUnder(outDir)) {
    if (!path.endsWith(".js")) continue;
    const map = JSON.parse(await Deno.readTextFile(`${path}.map`));
    delete map.sourcesContent;
    const imports = lazyDynamicImports(await Deno.readTextFile(path), map.mappings);
    const lazy = lazyRequire(imports.code, imports.mappings);
    map.mappings = lazy.mappings;
    scripts.set(path, { code: lazy.code, map });
  }
  const chunks = [...scripts].filter(([path]) => dirname(path) === outDir);
  const renamed = await stableNames(
    new Map(chunks.map(([path, { code }]) => [basename(path), code])),
  );
  // The old names go first: a new name may be one of them.
  for (const old of renamed.keys()) {
    await Deno.remove(join(outDir, old));
    await Deno.remove(join(outDir, `${old}.map`));
  }
  for (const [path, { code, map }] of scripts) {
    const name = dirname(path) === outDir ? renamed.get(basename(path)) : undefined;
    const target = name === undefined ? path : join(outDir, name);
    await Deno.writeTextFile(target, replaceNames(code, renamed));
    await Deno.writeTextFile(`${target}.map`, JSON.stringify(map));
  }
}

/** Every file under `dir`, at any depth. */
async function filesUnder(dir: string): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) files.push(...await filesUnder(path));
    else if (entry.isFile) files.push(path);
  }
  return files;
}

if (import.meta.main) {
  const [step, ...args] = Deno.args;
  try {
    if (step === "prune" && args.length >= 2) await prune(args[0], args.slice(1));
    else if (step === "licenses" && args.length === 2) await licenses(args[0], args[1]);
    else if (step === "bundle" && args.length >= 3) {
      await bundleApp(args[0], args[1], args.slice(2));
    } else {
      throw new Error(
        "usage: release_app.ts prune APP_DIR ENTRY... | licenses NPM_CACHE OUT | " +
          "bundle SRC_DIR OUT_DIR ENTRY...",
      );
    }
  } catch (error) {
    console.error(`scripts/release: ${error instanceof Error ? error.message : error}`);
    Deno.exit(1);
  }
}
