/**
 * The docs stay true. A fenced block right after a `<!-- checked ... -->` comment in README.md or
 * docs/*.md is a transcript: each `$ COMMAND` line is run (bash, in the repository root, with
 * `bairelay` being scripts/bairelay) and its output (stdout and stderr) must be the lines that
 * follow it; `$ echo $?` shows the previous command's exit code. Versions and this checkout's path
 * are normalised. Only commands that need no camera, no root and no network are marked.
 * After a deliberate change of output: `scripts/deno test --allow-all tests/docs_test.ts --
 * --update` rewrites the transcripts, then review the diff.
 *
 * Also: docs/configuration.md has a row for every config key with its default and range, and
 * every relative link in those files points at a file that exists, and a `#anchor` into a
 * Markdown file at one of its headings.
 */

import assert from "node:assert/strict";
import { CONFIG_SCHEMA } from "../lib/config.ts";
import type { KeySpec, Schema } from "../lib/config/spec.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const UPDATE = Deno.args.includes("--update");
/** The marker comment that makes the next fenced block a checked transcript. */
const MARK = "<!-- checked";

/** README.md and every page under docs/, as paths relative to the repository root. */
function docFiles(): string[] {
  const pages = [...Deno.readDirSync(`${ROOT}/docs`)]
    .filter((entry) => entry.isFile && entry.name.endsWith(".md"))
    .map((entry) => `docs/${entry.name}`)
    .sort();
  return ["README.md", ...pages];
}

/** One `$ command` of a transcript and the output lines shown under it. */
interface Step {
  command: string;
  expected: string[];
  /** Line index (0-based, in the file) of the first output line; the output runs to `end`. */
  start: number;
  end: number;
}

interface Transcript {
  file: string;
  /** 1-based line of the `$` line that starts it, for messages. */
  line: number;
  indent: string;
  steps: Step[];
}

/** The checked transcripts of `file` (`lines` is its text split into lines). */
function transcripts(file: string, lines: string[]): Transcript[] {
  const found: Transcript[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].trim().startsWith(MARK)) continue;
    let open = i + 1;
    while (open < lines.length && lines[open].trim() === "") open++;
    const fence = lines[open]?.match(/^(\s*)```(text|sh)$/);
    if (!fence) throw new Error(`${file}:${i + 1}: ${MARK} must be followed by a text or sh block`);
    const indent = fence[1];
    const steps: Step[] = [];
    let j = open + 1;
    for (; j < lines.length && lines[j].trim() !== "```"; j++) {
      const text = lines[j].startsWith(indent) ? lines[j].slice(indent.length) : lines[j];
      if (text.startsWith("$ ")) {
        const last = steps.at(-1);
        if (last) last.end = j;
        steps.push({ command: text.slice(2), expected: [], start: j + 1, end: j + 1 });
      } else {
        if (steps.length === 0) throw new Error(`${file}:${j + 1}: a transcript starts with "$ "`);
        steps.at(-1)!.expected.push(text);
      }
    }
    if (steps.length > 0) steps.at(-1)!.end = j;
    found.push({ file, line: open + 2, indent, steps });
    i = j;
  }
  return found;
}

/** Output as the docs show it: no trailing spaces or blank lines, versions and paths neutral. */
function normalise(lines: string[]): string {
  return lines.join("\n")
    .replaceAll(`${ROOT}/`, "")
    .replace(/\bbairelay \d+\.\d+\.\d+\S*/g, "bairelay VERSION")
    .replace(/\bDeno \d+\.\d+\.\d+\S*/g, "Deno VERSION")
    .replace(/\bV8 \d+(\.\d+)+\S*/g, "V8 VERSION")
    .split("\n").map((line) => line.trimEnd()).join("\n")
    .trimEnd();
}

/** A directory whose `bairelay` is this checkout's scripts/bairelay, to put first on PATH. */
function binDir(): string {
  const dir = Deno.makeTempDirSync({ prefix: "bairelay-docs-" });
  Deno.symlinkSync(`${ROOT}/scripts/bairelay`, `${dir}/bairelay`);
  return dir;
}

async function run(command: string, bin: string): Promise<{ output: string[]; code: number }> {
  const result = await new Deno.Command("bash", {
    args: ["-o", "pipefail", "-c", `(${command}) 2>&1`],
    cwd: ROOT,
    env: {
      PATH: `${bin}:${Deno.env.get("PATH")}`,
      NO_COLOR: "1",
      // The default state directory then reads the same for root and other users.
      XDG_STATE_HOME: "/var/lib",
    },
    stdin: "null",
    stdout: "piped",
  }).output();
  const text = new TextDecoder().decode(result.stdout).replace(/\n$/, "");
  return { output: text === "" ? [] : text.split("\n"), code: result.code };
}

for (const file of docFiles()) {
  const lines = Deno.readTextFileSync(`${ROOT}/${file}`).split("\n");
  const found = transcripts(file, lines);
  if (found.length === 0) continue;
  Deno.test(`docs: the commands shown in ${file} print what it says`, async () => {
    const bin = binDir();
    const rewritten = [...lines];
    // Replaced bottom-up, so earlier line numbers stay valid.
    const replacements: { step: Step; output: string[]; indent: string }[] = [];
    try {
      for (const transcript of found) {
        let previous = 0;
        for (const step of transcript.steps) {
          const where = `${file}:${step.start} \`${step.command}\``;
          let output: string[];
          if (step.command === "echo $?") {
            output = [String(previous)];
          } else {
            const result = await run(step.command, bin);
            output = result.output;
            previous = result.code;
          }
          if (UPDATE) replacements.push({ step, output, indent: transcript.indent });
          else assert.equal(normalise(output), normalise(step.expected), where);
        }
      }
    } finally {
      Deno.removeSync(bin, { recursive: true });
    }
    if (!UPDATE) return;
    for (const { step, output, indent } of replacements.reverse()) {
      const shown = output.map((line) => (line === "" ? "" : indent + line).trimEnd());
      rewritten.splice(step.start, step.end - step.start, ...shown);
    }
    Deno.writeTextFileSync(`${ROOT}/${file}`, rewritten.join("\n"));
  });
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as dashes. */
function anchor(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^a-z0-9 _-]/g, "").replaceAll(" ", "-");
}

/** The anchors of a Markdown file's headings (outside code blocks). */
function anchors(text: string): Set<string> {
  const found = new Set<string>();
  let code = false;
  for (const line of text.split("\n")) {
    if (line.trim().startsWith("```")) code = !code;
    const heading = !code && line.match(/^#{1,6} (.*)$/);
    if (heading) found.add(anchor(heading[1]));
  }
  return found;
}

Deno.test("docs: every relative link in README.md and docs/ points at a file (and heading) that exists", () => {
  const broken: string[] = [];
  for (const file of docFiles()) {
    const text = Deno.readTextFileSync(`${ROOT}/${file}`);
    let code = false;
    text.split("\n").forEach((line, index) => {
      if (line.trim().startsWith("```")) code = !code;
      if (code) return;
      for (const [, target] of line.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target)) continue; // http:, https:, mailto:
        const [path, fragment] = target.split("#");
        const base = file.includes("/") ? file.slice(0, file.lastIndexOf("/")) : ".";
        const resolved = path === "" ? `${ROOT}/${file}` : `${ROOT}/${base}/${path}`;
        let exists = true;
        try {
          Deno.statSync(resolved);
        } catch {
          exists = false;
        }
        if (!exists) broken.push(`${file}:${index + 1}: ${target}: no such file`);
        else if (fragment !== undefined && resolved.endsWith(".md")) {
          if (!anchors(Deno.readTextFileSync(resolved)).has(fragment)) {
            broken.push(`${file}:${index + 1}: ${target}: no such heading`);
          }
        }
      }
    });
  }
  assert.deepEqual(broken, []);
});

/** How docs/configuration.md titles the section `name` of CONFIG_SCHEMA. */
function sectionTitle(name: string): string {
  if (name === "") return "Top level";
  if (name === "cameras[]") return "`[[cameras]]`";
  return `\`[${name}]\``;
}

/** A default as the reference shows it: TOML syntax in backticks, `none` when computed. */
function shownDefault(spec: KeySpec): string {
  if (!("default" in spec) || spec.default === undefined) return "none";
  const value = spec.default;
  if (typeof value === "string") return `\`${JSON.stringify(value)}\``;
  if (Array.isArray(value)) return `\`[${value.map((v) => JSON.stringify(v)).join(", ")}]\``;
  return `\`${value}\``;
}

/** A range as the reference shows it. */
function shownRange(spec: KeySpec): string {
  if (spec.type === "integer") return `${spec.min}-${spec.max}`;
  if (spec.type === "string") return spec.oneOf?.map((v) => `\`${v}\``).join(", ") ?? "";
  if (spec.type === "pair") return "two strings";
  if (spec.type === "strings") return `at most ${spec.max}`;
  return "";
}

Deno.test("docs: configuration.md has a row for every config key, with its default and range", () => {
  const text = Deno.readTextFileSync(`${ROOT}/docs/configuration.md`);
  const sections = new Map(
    text.split(/^## /m).slice(1).map((part) => [part.slice(0, part.indexOf("\n")), part]),
  );
  const wrong: string[] = [];
  for (const [name, keys] of Object.entries(CONFIG_SCHEMA as Schema)) {
    const section = sections.get(sectionTitle(name));
    if (section === undefined) {
      wrong.push(`no section "## ${sectionTitle(name)}"`);
      continue;
    }
    for (const [key, spec] of Object.entries(keys)) {
      const row = section.split("\n").find((line) => line.startsWith(`| \`${key}\` `));
      const cells = row?.split("|").slice(2, 4).map((cell) => cell.trim());
      const expected = [shownDefault(spec), shownRange(spec)];
      if (cells === undefined) wrong.push(`${sectionTitle(name)} ${key}: no row`);
      else if (cells.join(" | ") !== expected.join(" | ")) {
        wrong.push(
          `${sectionTitle(name)} ${key}: shows ${cells.join(" | ")}, is ${expected.join(" | ")}`,
        );
      }
    }
  }
  assert.deepEqual(wrong, []);
});
