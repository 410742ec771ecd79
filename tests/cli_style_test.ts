/**
 * One CLI style, checked on what the real CLI prints: every command's `--help` and its error
 * paths. Descriptions in the help lists (commands, options, arguments) start with a capital
 * letter and have no final period; defaults are written `(default: X)`; the lists' descriptions
 * share one column and no line outruns the 80 columns commander wraps to (example commands
 * excepted: they are never wrapped); every subcommand's help ends with "Exit codes:" and
 * "Examples:", whose lines parse as bairelay command lines with `#` comments and the one
 * example UID. Every mistake in a command line is exit 2, `bairelay: <message>` and the
 * "(run with --help for usage)" line, and a bad option value is worded the one commander way.
 */

import assert from "node:assert/strict";
import { CommanderError } from "commander";
import { buildProgram } from "../cli/program.ts";
import { renderTable } from "../cli/registry.ts";
import { rspAnswer, withFakeWakeServer } from "./support/fake_wake_server.ts";
import { type CliResult, runCli, SUBCOMMANDS } from "./support/run_cli.ts";
import { freeTcpPort } from "./support/serve_process.ts";

/** Commander's width when stdout is not a terminal. */
const HELP_WIDTH = 80;
/** The one UID the examples use (16 characters, as on a camera's sticker). */
const EXAMPLE_UID = "95270000ABCDEFGH";
const HINT = "(run with --help for usage)";

/** Runs `runCli` on every argument list, a few at a time (the machine is shared). */
async function runAll(argLists: string[][]): Promise<CliResult[]> {
  const results: CliResult[] = new Array(argLists.length);
  let next = 0;
  const worker = async () => {
    while (next < argLists.length) {
      const i = next++;
      results[i] = await runCli(argLists[i]);
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  return results;
}

/** The help of the program (`[]`) and of every subcommand, by name ("" for the program). */
async function allHelps(): Promise<Map<string, string>> {
  const names = ["", ...SUBCOMMANDS];
  const results = await runAll(names.map((name) => name === "" ? ["--help"] : [name, "--help"]));
  return new Map(names.map((name, i) => {
    assert.equal(results[i].code, 0, `${name} --help: ${results[i].stderr}`);
    assert.equal(results[i].stderr, "", `${name} --help`);
    return [name, results[i].stdout];
  }));
}

const helps = allHelps();

/** One entry of a help list: its term, the column its description starts at, the description. */
interface ListItem {
  term: string;
  column: number;
  description: string;
}

/** The entries of commander's lists (Arguments, Options, "Timeline options", Commands). */
function listItems(help: string): ListItem[] {
  const items: ListItem[] = [];
  let inList = false;
  for (const line of help.split("\n")) {
    if (/^[A-Z][a-z ]*:$/.test(line)) {
      inList = /^(Arguments|Commands|.*[Oo]ptions):$/.test(line);
      continue;
    }
    if (line === "") inList = false;
    if (!inList) continue;
    const item = /^ {2}(\S.*?) {2,}(\S.*)$/.exec(line);
    const last = items[items.length - 1];
    if (last !== undefined && line.startsWith(" ".repeat(last.column))) {
      assert.match(line.slice(last.column), /^\S/, `continuation off the column: ${line}`);
      last.description += ` ${line.trim()}`;
    } else {
      assert.ok(item, `not a list entry: ${JSON.stringify(line)}`);
      items.push({
        term: item[1],
        column: line.indexOf(item[2], 2 + item[1].length),
        description: item[2],
      });
    }
  }
  return items;
}

/** The lines of the section headed `title` (up to the next blank line or the end). */
function section(help: string, title: string): string[] {
  const lines = help.trimEnd().split("\n");
  const start = lines.indexOf(title);
  if (start === -1) return [];
  const end = lines.indexOf("", start);
  return lines.slice(start + 1, end === -1 ? undefined : end);
}

Deno.test("cli style: list descriptions are capitalised, without a final period, in one column", async () => {
  for (const [name, help] of await helps) {
    const items = listItems(help);
    assert.ok(items.length >= 2, `${name}: no list entries found`);
    const columns = new Set(items.map((item) => item.column));
    assert.equal(columns.size, 1, `${name}: descriptions start in columns ${[...columns]}`);
    for (const { term, description } of items) {
      assert.match(description, /^[A-Z]/, `${name} ${term}: "${description}"`);
      const text = description.replace(/( \([^()]*\))+$/, "");
      assert.doesNotMatch(text, /\.$/, `${name} ${term}: "${description}"`);
    }
  }
});

Deno.test("cli style: the root help is not ragged: every line fits, one line per command", async () => {
  const help = (await helps).get("")!;
  for (const line of help.split("\n")) {
    assert.ok(line.length <= HELP_WIDTH, `${line.length} columns: ${line}`);
  }
  const commands = section(help, "Commands:");
  assert.deepEqual(
    commands.map((line) => line.trim().split(" ")[0]),
    [...SUBCOMMANDS, "help"],
    "one line per command: a summary, not the command's whole description",
  );
});

Deno.test("cli style: subcommand help lines fit in 80 columns, examples excepted", async () => {
  for (const name of SUBCOMMANDS) {
    const help = (await helps).get(name)!;
    const examples = new Set(section(help, "Examples:"));
    for (const line of help.split("\n")) {
      if (examples.has(line)) continue;
      assert.ok(line.length <= HELP_WIDTH, `${name}: ${line.length} columns: ${line}`);
    }
  }
});

Deno.test("cli style: defaults are written one way, (default: X)", async () => {
  for (const [name, help] of await helps) {
    const flat = help.replace(/\s+/g, " ");
    const defaults = flat.match(/\(default[^)]*\)/g) ?? [];
    for (const text of defaults) {
      assert.match(text, /^\(default: [^"\s]/, `${name}: ${text}`);
    }
  }
  const wake = (await helps).get("wake")!.replace(/\s+/g, " ");
  assert.match(wake, /Time allowed for the protocol exchange \(default: 10\)/);
  const serve = (await helps).get("serve")!.replace(/\s+/g, " ");
  assert.match(serve, /Middleman UDP port \(default: 9999\)/);
});

Deno.test("cli style: every subcommand's help teaches: description, exit codes, then examples", async () => {
  for (const name of SUBCOMMANDS) {
    const help = (await helps).get(name)!;
    const lines = help.trimEnd().split("\n");
    assert.match(lines[2], /^[A-Z]/, `${name}: a description under the usage line`);
    const codes = section(help, "Exit codes:");
    assert.ok(codes.length >= 2, `${name}: no "Exit codes:" section`);
    assert.match(codes[0], /^ {2}0 {2}\S/, `${name}: exit codes start with 0`);
    for (const line of codes) assert.match(line, /^(?: {2}[0-4] {2}| {5})\S/, `${name}: ${line}`);
    const examples = section(help, "Examples:");
    assert.ok(examples.length >= 2, `${name}: no "Examples:" section`);
    assert.equal(
      lines.length,
      lines.indexOf("Examples:") + 1 + examples.length,
      `${name}: the examples come last`,
    );
  }
});

/** Splits a shell line into pipeline stages of words: quotes, `|` and `#` comments. */
function shellStages(line: string): string[][] {
  const stages: string[][] = [[]];
  const pattern = /\s*(?:'([^']*)'|"([^"]*)"|(\|)|(#.*)|([^\s'"|]+))/gy;
  for (const match of line.matchAll(pattern)) {
    const [, single, double, pipe, comment, bare] = match;
    if (comment !== undefined) break;
    if (pipe !== undefined) stages.push([]);
    else stages[stages.length - 1].push(single ?? double ?? bare);
  }
  return stages;
}

/**
 * Parses `args` (the words after `bairelay`) with the real program, every action replaced by
 * one that does nothing: the words name a command, its options and values are accepted.
 * Returns commander's message, or null when they parse.
 */
async function parseError(args: string[]): Promise<string | null> {
  const program = await buildProgram();
  let message = "";
  const output = { writeOut: () => {}, writeErr: (text: string) => message += text };
  program.exitOverride().configureOutput(output);
  for (const command of program.commands) {
    command.exitOverride().configureOutput(output).action(() => {});
  }
  try {
    await program.parseAsync(args, { from: "user" });
    return null;
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    return message || error.message;
  }
}

Deno.test("cli style: every example is a command line that parses, with # comments", async () => {
  let checked = 0;
  for (const name of SUBCOMMANDS) {
    for (const line of section((await helps).get(name)!, "Examples:")) {
      const unquoted = line.trim().replace(/'[^']*'|"[^"]*"/g, "''");
      for (const gap of unquoted.matchAll(/ {2,}(?=\S)/g)) {
        const after = unquoted.slice(gap.index + gap[0].length);
        assert.match(after, /^#/, `${name}: a comment must start with #: ${line}`);
      }
      for (const words of shellStages(line)) {
        if (words[0] !== "bairelay") continue;
        for (const word of words.filter((w) => /^9527/.test(w))) {
          assert.equal(word, EXAMPLE_UID, `${name}: the example UID is ${EXAMPLE_UID}: ${line}`);
        }
        assert.equal(await parseError(words.slice(1)), null, `${name}: ${line}`);
        checked++;
      }
    }
  }
  assert.ok(checked >= 20, `only ${checked} example commands found`);
  // The check itself sees a stray word, a bad value and an unknown option.
  assert.notEqual(await parseError(["pcap-replay", "wake.pcap", "timeline", "and"]), null);
  assert.notEqual(await parseError(["wake", EXAMPLE_UID, "--camera-port", "0"]), null);
  assert.notEqual(await parseError(["registry", "--bogus"]), null);
});

Deno.test("cli style: registry's help names every column the table prints", async () => {
  const help = (await helps).get("registry")!;
  const listed = section(help, "Columns:").map((line) =>
    /^ {2}(\S+(?: \S+)*?)(?: {2,}|$)/.exec(line)
  )
    .flatMap((match) => match ? [match[1]] : []);
  const table = renderTable([{
    uid: EXAMPLE_UID,
    name: null,
    state: "fresh",
    address: null,
    first_seen: null,
    last_heartbeat: null,
    age_ms: null,
    fresh: true,
    wakes: 0,
    wakes_last_hour: null,
    wake_budget: null,
    last_wake: null,
    last_motion: null,
  }]);
  const header = table.split("\n")[0].split(/ {2,}/);
  assert.deepEqual(listed, header);
  assert.ok(header.includes("LAST MOTION"));
});

/** Asserts a command-line mistake: exit 2, nothing on stdout, the message and the hint line. */
function assertUsageError(result: CliResult, what: string): string {
  assert.equal(result.code, 2, `${what}: ${result.stderr}`);
  assert.equal(result.stdout, "", what);
  const match = new RegExp(`^bairelay: ([^\\n]+)\\n${HINT.replace(/[()]/g, "\\$&")}\\n$`)
    .exec(result.stderr);
  assert.ok(match, `${what}: ${JSON.stringify(result.stderr)}`);
  return match[1];
}

Deno.test("cli style: every command-line mistake is exit 2, one message and the --help line", async () => {
  const closedApi = `127.0.0.1:${freeTcpPort("127.0.0.1")}`;
  const mistakes: [string[], RegExp][] = [
    [["--bogus"], /^unknown option '--bogus'$/],
    [["frobnicate"], /^unknown command 'frobnicate'$/],
    ...SUBCOMMANDS.map((name): [string[], RegExp] => [[name, "--bogus"], /^unknown option/]),
    [["serve", "--bind"], /^option '--bind <addr>' argument missing$/],
    [["serve", "--log-format", "xml"], /Allowed choices are pretty, json\.$/],
    [["serve", "stray"], /^too many arguments for 'serve'/],
    [["decode"], /^no input: /],
    [
      ["decode", "aa", "--file", "packet.bin"],
      /^give the input either as arguments or with --file/,
    ],
    [["encode", "--tid", "zz", "aa"], /^option '--tid <n>' argument 'zz' is invalid/],
    [["encode"], /^no input: /],
    [["wake"], /^missing required argument 'uid-or-name'$/],
    [["wake", EXAMPLE_UID, "stray"], /^too many arguments for 'wake'/],
    [
      ["wake", EXAMPLE_UID, "--timeout", "soon"],
      /'soon' is invalid\. Expected a number of seconds/,
    ],
    [["wake", EXAMPLE_UID, "--camera-port", "0"], /'0' is invalid\. Expected a port number/],
    [
      ["wake", EXAMPLE_UID, "--api", "http://[bad"],
      /'http:\/\/\[bad' is invalid\. .*not a valid URL/,
    ],
    [["wake", "front", "--api", closedApi], /^"front" is not a UID .* Pass --config FILE/],
    [
      ["registry", "--api", "http://[bad"],
      /^option '--api <url>' argument 'http:\/\/\[bad' is invalid\. .*not a valid URL/,
    ],
    [
      ["registry", "--timeout", "soon"],
      /'soon' is invalid\. Expected a whole number of milliseconds/,
    ],
    [["registry", "stray"], /^too many arguments for 'registry'/],
    [["doctor", "--dns", "pihole.lan"], /'pihole\.lan' is invalid\. Expected an IP address/],
    [
      ["doctor", "--timeout", "0"],
      /'0' is invalid\. Expected a whole number of milliseconds from 1/,
    ],
    [["doctor", "--recipes", "::1"], /'::1' is invalid\. Expected an IPv4 address/],
    [["doctor", "--api", "ftp://box"], /'ftp:\/\/box' is invalid\./],
    [["pcap-replay"], /^missing required argument 'capture'$/],
    [["pcap-replay", "a.pcap", "b.pcap"], /^too many arguments for 'pcap-replay'/],
    [["pcap-replay", "a.pcap", "--speed", "0"], /'0' is invalid\. Expected a number above 0/],
    [["pcap-replay", "a.pcap", "--port", "99999"], /'99999' is invalid\. Expected a port number/],
  ];
  const results = await runAll(mistakes.map(([args]) => args));
  results.forEach((result, i) => {
    const [args, pattern] = mistakes[i];
    const message = assertUsageError(result, args.join(" "));
    assert.match(message, pattern, args.join(" "));
    if (message.includes("is invalid.")) {
      // The one wording of a bad value: commander's sentence, then what was expected.
      assert.match(message, /^option '[^']+' argument '[^']*' is invalid\. [A-Z].*\.$/, message);
    }
  });
});

Deno.test("cli style: wake --json puts its one object on stdout and nothing on stderr", async () => {
  await withFakeWakeServer({ register: { reply: rspAnswer(-1) } }, async (fake) => {
    const server = `${fake.middleman.ip}:${fake.middleman.port}`;
    // A 20-character UID: its note about the 16-character form stays out of --json's way too.
    const args = ["wake", `${EXAMPLE_UID}0123`, "--server", server];
    const [json, text] = await runAll([[...args, "--json"], args]);
    assert.equal(json.code, 3, json.stderr);
    assert.equal(json.stderr, "");
    const lines = json.stdout.trim().split("\n");
    assert.equal(lines.length, 1, json.stdout);
    const object = JSON.parse(lines[0]);
    assert.equal(object.result, "not_registered");
    assert.match(object.message, /has not sent a heartbeat/);
    assert.equal(text.code, 3, "the exit code is the same without --json");
    assert.equal(text.stdout, "");
    assert.match(text.stderr, /^note: .* is a long \(20-character\) UID/);
    assert.ok(text.stderr.includes(`bairelay: ${object.message}`), text.stderr);
  });
});
