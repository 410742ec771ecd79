/**
 * Rewrites of `deno bundle`'s output (one module per file, linked V3 source maps) that
 * scripts/release_app.ts applies before shipping it:
 *
 * - `lazyDynamicImports`: `import("./chunk.js")` becomes `import(("./chunk.js"))`. Deno loads
 *   and parses every module a program could import, dynamically imported ones included, before
 *   it starts, unless the specifier is not a plain string; without a cache of that analysis (a
 *   service whose cache directory is not writable) that parse costs ~15 MB of resident memory
 *   for the MQTT client, pcap-replay and doctor code serve never runs. The source map is
 *   shifted to match, so stack traces still point at the right source.
 * - `lazyRequire`: the `require` the bundler makes for the CommonJS packages (the MQTT client,
 *   dns-packet) to load Node's built-in modules is made at its first call, not at start: its
 *   `node:module` import brings up Deno's Node compatibility layer, ~1.2 MB of resident memory
 *   for a serve that loads none of those packages.
 * - `stableNames`: esbuild names chunks by a hash that includes the build directory's path;
 *   the names become a hash of the content with the other names taken out, so that two builds
 *   of one tree give the same bytes.
 */

/** A dynamic import of a bundle file, as esbuild writes it. */
const DYNAMIC_IMPORT = /import\("(\.\.?\/[^"]+\.js)"\)/g;
/** A name esbuild gave a file: NAME-HASH.js, HASH 8 of [A-Z0-9]. */
const HASHED_NAME = /\b([A-Za-z0-9_]+)-[A-Z0-9]{8}\.js\b/g;
const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Reads one base64 VLQ value from `text` at `at`: the value and where the next one starts. */
function readVlq(text: string, at: number): { value: number; next: number } {
  let result = 0;
  let shift = 0;
  for (let i = at; i < text.length; i++) {
    const digit = BASE64.indexOf(text[i]);
    if (digit < 0) throw new Error(`source map: "${text[i]}" is not a base64 digit`);
    result += (digit & 31) * 2 ** shift;
    shift += 5;
    if ((digit & 32) === 0) {
      const value = result % 2 === 1 ? -(result - 1) / 2 : result / 2;
      return { value, next: i + 1 };
    }
  }
  throw new Error("source map: a VLQ value is cut short");
}

/** `value` as base64 VLQ (one field of a source map segment). */
export function writeVlq(value: number): string {
  let rest = value < 0 ? -value * 2 + 1 : value * 2;
  let text = "";
  do {
    let digit = rest % 32;
    rest = Math.floor(rest / 32);
    if (rest > 0) digit |= 32;
    text += BASE64[digit];
  } while (rest > 0);
  return text;
}

/**
 * A V3 `mappings` with every generated column at or after `column` on generated line `line`
 * (0-based) moved `by` columns: text of that length was inserted there. Columns are relative
 * within a line, so only the first segment at or after `column` changes.
 */
export function shiftMappings(mappings: string, line: number, column: number, by: number): string {
  const lines = mappings.split(";");
  if (line >= lines.length) return mappings;
  const segments = lines[line].split(",");
  let at = 0;
  for (let i = 0; i < segments.length; i++) {
    if (segments[i] === "") continue;
    const { value, next } = readVlq(segments[i], 0);
    at += value;
    if (at >= column) {
      segments[i] = writeVlq(value + by) + segments[i].slice(next);
      break;
    }
  }
  lines[line] = segments.join(",");
  return lines.join(";");
}

/** The line and column (0-based, as a source map counts them) just after `text`. */
function endOf(text: string): { line: number; column: number } {
  return { line: text.split("\n").length - 1, column: text.length - text.lastIndexOf("\n") - 1 };
}

/**
 * `code` with each dynamic import of a bundle file wrapped so Deno does not load it ahead (see
 * the module docs), and `mappings` (its source map's) shifted to match.
 */
export function lazyDynamicImports(
  code: string,
  mappings: string,
): { code: string; mappings: string } {
  let out = "";
  let last = 0;
  let shifted = mappings;
  for (const match of code.matchAll(DYNAMIC_IMPORT)) {
    out += code.slice(last, match.index);
    const { line, column } = endOf(out + 'import(("');
    // One "(" before the string moves what follows it by one; one ")" after the string by two.
    shifted = shiftMappings(shifted, line, column - 2, 1);
    shifted = shiftMappings(shifted, line, column + match[1].length + 1, 1);
    out += `import(("${match[1]}"))`;
    last = match.index + match[0].length;
  }
  return { code: out + code.slice(last), mappings: shifted };
}

/** The `require` Deno's bundler puts into the chunk of esbuild's helpers. */
const CREATE_REQUIRE = new RegExp(
  String.raw`import\{createRequire as __deno_internal_createRequire\} from "node:module";` +
    String.raw`var ([\w$]+)=__deno_internal_createRequire\(import\.meta\.url\);`,
);

/**
 * `code` with the bundler's `require` made at its first call (see the module docs), and
 * `mappings` shifted to match. Throws when `code` imports `node:module` in another form, so
 * that a change in Deno's bundler is seen, not shipped heavier.
 */
export function lazyRequire(code: string, mappings: string): { code: string; mappings: string } {
  const match = CREATE_REQUIRE.exec(code);
  if (match === null) {
    if (code.includes('"node:module"')) {
      throw new Error("bundle: node:module is imported in a form lazyRequire does not know");
    }
    return { code, mappings };
  }
  const lazy = `var __deno_internal_require,${match[1]}=(id)=>(__deno_internal_require??=` +
    'globalThis.process.getBuiltinModule("node:module").createRequire(import.meta.url))(id);';
  const end = match.index + match[0].length;
  const { line, column } = endOf(code.slice(0, end));
  return {
    code: code.slice(0, match.index) + lazy + code.slice(end),
    mappings: shiftMappings(mappings, line, column, lazy.length - match[0].length),
  };
}

/** A short hash of `text` (hex, 8 characters). */
async function shortHash(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("")
    .slice(0, 8).toUpperCase();
}

/**
 * New names for the hashed files among `files` (name -> content): NAME-HASH.js with HASH from
 * the content with every hashed name in it reduced to NAME, so the names depend on the code
 * only. Same length as esbuild's, so no column moves when they are replaced.
 */
export async function stableNames(files: Map<string, string>): Promise<Map<string, string>> {
  const renamed = new Map<string, string>();
  for (const [name, content] of files) {
    const match = /^([A-Za-z0-9_]+)-[A-Z0-9]{8}\.js$/.exec(name);
    if (!match) continue;
    const masked = content.replace(HASHED_NAME, "$1.js");
    const next = `${match[1]}-${await shortHash(masked)}.js`;
    if ([...renamed.values()].includes(next)) throw new Error(`bundle: two files named ${next}`);
    renamed.set(name, next);
  }
  return renamed;
}

/** `text` with every file name in `renamed` replaced by its new name. */
export function replaceNames(text: string, renamed: Map<string, string>): string {
  return text.replace(HASHED_NAME, (name) => renamed.get(name) ?? name);
}
