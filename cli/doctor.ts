/** `bairelay doctor`: checks the whole set-up and says, line by line, what is right and what to fix. */

import { Command, InvalidArgumentError, Option } from "commander";
import { DEFAULT_API_URL } from "../lib/api/client.ts";
import { type Config, loadConfig } from "../lib/config.ts";
import { CHECKS, doctorOutcome, runChecks } from "../lib/doctor/checks.ts";
import { type DnsServer, parseDnsServer } from "../lib/doctor/dns_client.ts";
import {
  DEFAULT_API_TIMEOUT_MS,
  DEFAULT_DNS_TIMEOUT_MS,
  type DoctorPlan,
  gatherFacts,
  type SetupFacts,
} from "../lib/doctor/facts.ts";
import type { CheckGroup, CheckResult } from "../lib/doctor/result.ts";
import { RESOLV_CONF } from "../lib/dns/upstreams.ts";
import { ipVersion } from "../lib/net/ip.ts";
import { advertisedAddresses } from "../lib/net/local_address.ts";
import { MAX_P2P_HOST_NUMBER, REDIRECT_RECIPES, REOLINK_HOSTS } from "../lib/reolink_hosts.ts";
import { apiTarget, loadConfigFile } from "./api_target.ts";
import { apiUrlArgument, millisecondsArgument } from "./arguments.ts";
import { CliExit, EXIT } from "./exit_codes.ts";

/** The longest time limit accepted for --timeout and --dns-timeout. */
const MAX_TIMEOUT_MS = 30_000;
/** The most --dns servers asked in one run (each gets a query per Reolink name at once). */
const MAX_DNS_SERVERS = 8;

interface DoctorOptions {
  api?: string;
  config?: string;
  token?: string;
  timeout: number;
  dns?: DnsServer[];
  dnsTimeout: number;
  systemDns: boolean;
  resolvConf: string;
  expect?: string[];
  json?: boolean;
  /** `--recipes [address]`: true without an address. */
  recipes?: string | true;
}

const GROUP_TITLES: Record<CheckGroup, string> = {
  dns: "DNS",
  serve: "serve",
  cameras: "cameras",
  box: "this box",
};

/** `--dns`, repeatable: each an IP address with an optional port, at most MAX_DNS_SERVERS. */
function dnsServers(text: string, previous: DnsServer[] = []): DnsServer[] {
  const server = parseDnsServer(text);
  if (server === null) {
    throw new InvalidArgumentError(
      "Expected an IP address with an optional port, e.g. 192.168.1.2, 192.168.1.2:5353 or " +
        "[fd00::2]:53.",
    );
  }
  if (previous.length === MAX_DNS_SERVERS) {
    throw new InvalidArgumentError(`At most ${MAX_DNS_SERVERS} --dns servers are asked at once.`);
  }
  return [...previous, server];
}

/** `--expect`, repeatable: IP addresses. */
function expectedAddresses(text: string, previous: string[] = []): string[] {
  if (ipVersion(text) === 0) throw new InvalidArgumentError("Expected an IP address.");
  return [...previous, text];
}

/** `--recipes ADDRESS`: the IPv4 address the recipes point the names at. */
function recipeAddress(text: string): string {
  if (ipVersion(text) !== 4) throw new InvalidArgumentError("Expected an IPv4 address.");
  return text;
}

const milliseconds = millisecondsArgument(MAX_TIMEOUT_MS);

/** The `doctor` subcommand. */
export function doctorCommand(): Command {
  return new Command("doctor")
    .summary("Check DNS, serve, cameras and this box")
    .description(
      "Check the set-up: DNS sends the Reolink names here, serve runs, cameras register, " +
        "this box allows it. Each problem comes with what to do.",
    )
    .option(
      "--dns <host[:port]>",
      "Also ask this DNS server (the one the cameras use); repeatable",
      dnsServers,
    )
    .option("--no-system-dns", "Do not ask the system resolver (/etc/resolv.conf)")
    .option(
      "--expect <address>",
      "Count this address as here too (serve on another box); repeatable",
      expectedAddresses,
    )
    .addOption(
      new Option("--dns-timeout <ms>", "Time limit for each DNS query")
        .default(DEFAULT_DNS_TIMEOUT_MS).argParser(milliseconds),
    )
    .option("--api <url>", `Serve's control API (default: ${DEFAULT_API_URL})`, apiUrlArgument)
    .option("-c, --config <file>", "Serve's config file: API address, token, ports, cameras")
    .option("--token <token>", "Bearer token, if the API has one (default: $BAIRELAY_API_TOKEN)")
    .addOption(
      new Option("--timeout <ms>", "Time limit for each API request")
        .default(DEFAULT_API_TIMEOUT_MS).argParser(milliseconds),
    )
    .option("--json", "Print one JSON object per check, one per line")
    .option(
      "--recipes [address]",
      "Print, ready to paste, how to point the Reolink names at this box (or at ADDRESS) in " +
        "dnsmasq, Pi-hole, AdGuard Home, OpenWrt or bairelay's own DNS, and exit",
      recipeAddress,
    )
    .addOption(
      new Option("--resolv-conf <file>", "Take the system resolver from this file")
        .default(RESOLV_CONF).hideHelp(),
    )
    .addHelpText("after", helpText())
    .action(async (options: DoctorOptions) => {
      if (options.recipes !== undefined) {
        console.log(await recipesText(options.recipes, options.json === true));
        return;
      }
      const plan = makePlan(options);
      const facts = await gatherFacts(plan);
      const results = runChecks(facts);
      console.log(
        options.json ? results.map((r) => JSON.stringify(r)).join("\n") : render(results),
      );
      const outcome = doctorOutcome(facts, results);
      if (outcome === "ok") return;
      const code = outcome === "unreachable"
        ? EXIT.UNAVAILABLE
        : outcome === "refused"
        ? EXIT.USAGE
        : EXIT.FAILURE;
      throw new CliExit(code, "");
    });
}

/**
 * Every redirect recipe for `address` (true: this box's advertised address), as text blocks
 * or, with `json`, one object per line.
 */
async function recipesText(address: string | true, json: boolean): Promise<string> {
  let target: string;
  if (address === true) {
    const found = await advertisedAddresses("0.0.0.0");
    if (found.length === 0) {
      throw new CliExit(
        EXIT.FAILURE,
        "no LAN address found for this box (is the network up?): name it, e.g. " +
          "`bairelay doctor --recipes 192.168.1.10`",
      );
    }
    target = found[0];
  } else {
    target = address;
  }
  if (json) {
    return REDIRECT_RECIPES.map((recipe) =>
      JSON.stringify({
        key: recipe.key,
        resolver: recipe.resolver,
        where: recipe.where,
        text: recipe.text(target),
      })
    ).join("\n");
  }
  const blocks = REDIRECT_RECIPES.map((recipe) =>
    `${recipe.resolver}: ${recipe.where}\n\n${recipe.text(target).replace(/^/gm, "    ")}\n`
  );
  return [`Point ${REOLINK_HOSTS.length} names at ${target}, one of these ways:`, "", ...blocks]
    .join("\n");
}

function helpText(): string {
  const checks = CHECKS.map((check) => `  ${GROUP_TITLES[check.group].padEnd(9)} ${check.title}`);
  return [
    "",
    "Checks (each line ok, warning or problem; a problem comes with what to do):",
    ...checks,
    "",
    `DNS: asks each resolver for ${REOLINK_HOSTS.length} names (p2p.reolink.com, ` +
    `p2p1..p2p${MAX_P2P_HOST_NUMBER},`,
    "pushx.reolink.com) and tells whether each answer is this box (any of its",
    "addresses, loopback included, or --expect), Reolink's cloud (another public",
    "address), NXDOMAIN, blocked, or no answer. Ask the resolver the cameras use",
    "(the router, Pi-hole, AdGuard Home) with --dns.",
    "",
    "Exit codes:",
    "  0  no problem (warnings allowed)",
    "  1  a problem",
    "  2  bad usage, a bad config file, or the token was refused",
    "  3  serve unreachable (the DNS and box checks still run and print)",
    "",
    "Examples:",
    "  bairelay doctor",
    "  bairelay doctor --dns 192.168.1.2          # the Pi-hole the cameras use",
    "  bairelay doctor --config /etc/bairelay/config.toml",
    "  bairelay doctor --dns 192.168.1.1 --expect 192.168.1.10 --no-system-dns",
    "  bairelay doctor --json | jq -c 'select(.verdict != \"ok\")'",
    "  bairelay doctor --recipes                  # how to set up the LAN's DNS",
  ].join("\n");
}

/** Turns the flags into what to gather; a bad config file is a usage error. */
function makePlan(options: DoctorOptions): DoctorPlan {
  const config = options.config ? loadConfigFile(options.config) : null;
  return {
    api: { ...apiTarget(options, config), timeoutMs: options.timeout },
    resolvConf: options.systemDns ? options.resolvConf : null,
    dns: options.dns ?? [],
    dnsTimeoutMs: options.dnsTimeout,
    expect: options.expect ?? [],
    setup: setupOf(config),
  };
}

/** The ports and sizes serve uses, from its config file or the defaults. */
function setupOf(config: Config | null): SetupFacts {
  const effective = config ?? loadConfig();
  return {
    configSource: effective.source,
    middlemanPort: effective.wakeServer.middlemanPort,
    registerPort: effective.wakeServer.registerPort,
    pushEnabled: effective.pushListener.enable,
    pushPort: effective.pushListener.port,
    receiveBufferBytes: effective.wakeServer.receiveBufferBytes,
  };
}

const LABELS = { ok: "ok", warning: "warning", problem: "problem" } as const;
const LABEL_WIDTH = 8;

/** Text width the details and remedies are wrapped to. */
const WRAP_COLUMNS = 100;

/**
 * Breaks `text` at spaces into lines of at most WRAP_COLUMNS: the first starts with `first`,
 * the others with `indent` (both the same width).
 */
function wrap(text: string, indent: string, first = indent): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && indent.length + line.length + 1 + word.length > WRAP_COLUMNS) {
      lines.push((lines.length === 0 ? first : indent) + line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  lines.push((lines.length === 0 ? first : indent) + line);
  return lines;
}

/** The checklist: results under their group's title, then a one-line tally. */
export function render(results: readonly CheckResult[]): string {
  const lines: string[] = [];
  let group: CheckGroup | null = null;
  const indent = " ".repeat(2 + LABEL_WIDTH + 1);
  for (const entry of results) {
    if (entry.group !== group) {
      if (group !== null) lines.push("");
      group = entry.group;
      lines.push(GROUP_TITLES[group]);
    }
    lines.push(...wrap(entry.summary, indent, `  ${LABELS[entry.verdict].padEnd(LABEL_WIDTH)} `));
    for (const detail of entry.details) lines.push(...wrap(detail, indent));
    if (entry.remedy !== null) lines.push(...wrap(`fix: ${entry.remedy}`, indent));
  }
  const count = (verdict: CheckResult["verdict"]) =>
    results.filter((entry) => entry.verdict === verdict).length;
  const problems = count("problem");
  const warnings = count("warning");
  lines.push("");
  lines.push(
    problems === 0 && warnings === 0
      ? `all ${results.length} checks ok`
      : `${problems} problem${problems === 1 ? "" : "s"}, ${warnings} warning${
        warnings === 1 ? "" : "s"
      }, ${count("ok")} ok`,
  );
  return lines.join("\n");
}
