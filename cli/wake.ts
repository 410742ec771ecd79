/** `bairelay wake`: wake a camera through a wake server, from a shell. */

import { Command, InvalidArgumentError } from "commander";
import {
  type CameraTarget,
  CameraTargetError,
  DEFAULT_MIDDLEMAN_PORT,
  type Endpoint,
  formatAddress,
  looksLikeUid,
  type NamedCamera,
  parseServerSpec,
  resolveCameraTarget,
  ServerAddressError,
  type ServerSpec,
  waitForCameraPort,
  type WaitOutcome,
  wakeCamera,
  type WakeOutcome,
} from "../lib/client/mod.ts";
import { ApiClientError, DEFAULT_API_URL, fetchCameras } from "../lib/api/client.ts";
import { ConfigError, loadConfig } from "../lib/config.ts";
import { apiUrlArgument, portArgument } from "./arguments.ts";
import { CliExit, EXIT, usageError } from "./exit_codes.ts";

/** Default time allowed for the protocol exchange. */
export const DEFAULT_TIMEOUT_SECONDS = 10;
/** Default time `--wait` allows the camera to open its port. */
export const DEFAULT_WAIT_TIMEOUT_SECONDS = 30;
/** The Baichuan TCP port a woken camera opens. */
export const DEFAULT_CAMERA_PORT = 9000;

interface WakeOptions {
  server?: ServerSpec[];
  timeout: number;
  wait?: boolean;
  waitTimeout: number;
  cameraPort: number;
  config?: string;
  api?: string;
  token?: string;
  json?: boolean;
}

/** The `--json` object (one per run). */
interface WakeJson {
  uid: string;
  server: string | null;
  result: string;
  camera: Endpoint | null;
  sid: number | null;
  elapsed_ms: number | null;
  online_ms: number | null;
  step: string | null;
  message: string;
}

function seconds(text: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value <= 0 || value > 86400) {
    throw new InvalidArgumentError(
      "Expected a number of seconds above 0 and at most 86400 (e.g. 10 or 2.5).",
    );
  }
  return value;
}

function serverList(text: string, previous: ServerSpec[] | undefined): ServerSpec[] {
  try {
    return [...(previous ?? []), parseServerSpec(text)];
  } catch (error) {
    if (error instanceof ServerAddressError) throw new InvalidArgumentError(error.message);
    throw error;
  }
}

/** Where `serve` listens when nothing says otherwise: this box's middleman. */
const LOCAL_SERVER: ServerSpec = { host: "127.0.0.1", port: DEFAULT_MIDDLEMAN_PORT };

/**
 * The config's cameras and the `serve` it describes (its bind address, unless that is every
 * address, and its middleman port): the default server. Without a file: no names, 127.0.0.1:9999.
 */
function readConfig(path: string | undefined): { cameras: NamedCamera[]; server: ServerSpec } {
  if (path === undefined) return { cameras: [], server: LOCAL_SERVER };
  try {
    const config = loadConfig({ path });
    const everywhere = config.bind === "0.0.0.0" || config.bind.includes(":");
    const host = everywhere ? LOCAL_SERVER.host : config.bind;
    return { cameras: config.cameras, server: { host, port: config.wakeServer.middlemanPort } };
  } catch (error) {
    if (error instanceof ConfigError) {
      throw new CliExit(EXIT.USAGE, `invalid configuration:\n${error.message}`);
    }
    throw error;
  }
}

function formatSeconds(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function cameraLabel(target: CameraTarget): string {
  return target.name ? `${target.uid} ("${target.name}")` : target.uid;
}

/** The sentence that explains an outcome other than "woken". */
function failureMessage(outcome: Exclude<WakeOutcome, { result: "woken" }>, label: string): string {
  switch (outcome.result) {
    case "not_registered":
      return `camera ${label} has not sent a heartbeat to ${outcome.server} recently ` +
        `(the register at ${formatAddress(outcome.register)} answered rsp ${outcome.rsp}); ` +
        "check that the camera's DNS sends p2p*.reolink.com to that server and that it is " +
        "powered, or list what is registered with `bairelay registry` (`bairelay serve` " +
        "also answers so when a camera used up its hourly wake budget; its log says which)";
    case "timeout": {
      const tries = `sent ${outcome.attempts} time${outcome.attempts === 1 ? "" : "s"} ` +
        `in ${formatSeconds(outcome.elapsedMs)}`;
      const ignored = outcome.ignored > 0
        ? `; ${outcome.ignored} unrelated or unreadable datagram(s) ignored`
        : "";
      const sendError = outcome.sendError ? `; last send error: ${outcome.sendError}` : "";
      if (outcome.step === "middleman") {
        return `no answer to C2M_Q from the middleman at ${outcome.asked.join(", ")} ` +
          `(${tries}${ignored}${sendError}); is \`bairelay serve\` running there and UDP ` +
          "reachable? (--server HOST[:PORT] picks another server)";
      }
      return `the middleman at ${outcome.server} answered, but the register at ` +
        `${outcome.asked.join(", ")} never answered C2R_C (${tries}${ignored}${sendError})`;
    }
    case "unusable":
      return `unusable reply from ${outcome.from} at the ${outcome.step} step: ${outcome.reason}`;
  }
}

function wakeJson(uid: string, outcome: WakeOutcome, message: string): WakeJson {
  const woken = outcome.result === "woken" ? outcome : undefined;
  return {
    uid,
    server: "server" in outcome ? outcome.server ?? null : null,
    result: outcome.result,
    camera: woken?.camera ?? null,
    sid: woken?.sid ?? null,
    elapsed_ms: outcome.elapsedMs,
    online_ms: null,
    step: "step" in outcome ? outcome.step : null,
    message,
  };
}

function wokenMessage(outcome: Extract<WakeOutcome, { result: "woken" }>, label: string): string {
  const where = outcome.camera
    ? `camera at ${formatAddress(outcome.camera)}`
    : "camera address not given";
  const sid = outcome.sid === undefined ? "no sid" : `sid ${outcome.sid}`;
  return `woke ${label} via ${outcome.server}: ${where}, ${sid}, ${
    formatSeconds(outcome.elapsedMs)
  }`;
}

function waitFailure(
  wait: Extract<WaitOutcome, { result: "timeout" }>,
  label: string,
  sid?: number,
): string {
  const last = wait.lastError ? `; last attempt: ${wait.lastError}` : "";
  const signalled = sid === undefined ? "signalled" : `signalled (sid ${sid})`;
  return `camera ${label} was ${signalled} but never opened its port ` +
    `${formatAddress(wait.camera)} within ${formatSeconds(wait.elapsedMs)} ` +
    `(${wait.attempts} connection attempts${last}); --wait-timeout allows longer, ` +
    "--camera-port picks another port";
}

/**
 * Prints the result and ends with the outcome's exit code: the message on stdout when it is
 * good news, on stderr when it is not; with --json only the one object on stdout (its
 * `message` member says it), so a script reads one stream.
 */
function finish(json: WakeJson, asJson: boolean | undefined, code: number): void {
  if (asJson) console.log(JSON.stringify(json));
  else if (code === EXIT.OK) console.log(json.message);
  if (code !== EXIT.OK) throw new CliExit(code, asJson ? "" : json.message);
}

const EXIT_OF: Record<Exclude<WakeOutcome["result"], "woken">, number> = {
  not_registered: EXIT.UNAVAILABLE,
  timeout: EXIT.TIMEOUT,
  unusable: EXIT.FAILURE,
};

/** `text` ended as a sentence (a period added unless it ends with one, or with "?" or "!"). */
function sentence(text: string): string {
  return /[.?!]$/.test(text) ? text : `${text}.`;
}

/**
 * The camera names of the running serve (its `GET /api/cameras`), for a name given without
 * --config: the names serve knows are the ones a user expects to work.
 */
async function namesFromServe(argument: string, options: WakeOptions): Promise<NamedCamera[]> {
  const url = options.api ?? DEFAULT_API_URL;
  const token = options.token ?? Deno.env.get("BAIRELAY_API_TOKEN");
  try {
    const { cameras } = await fetchCameras({ url, token, timeoutMs: 3000 });
    return cameras.flatMap((camera) => camera.name === null ? [] : [camera as NamedCamera]);
  } catch (error) {
    if (!(error instanceof ApiClientError)) throw error;
    throw usageError(
      `"${argument}" is not a UID (16 letters and digits, as on the camera's sticker), and ` +
        `the running serve could not be asked for its camera names: ${sentence(error.message)} ` +
        "Pass --config FILE (its [[cameras]] names) or --api URL (where serve's API listens).",
    );
  }
}

async function runWake(argument: string, options: WakeOptions): Promise<void> {
  const config = readConfig(options.config);
  const askServe = options.config === undefined && !looksLikeUid(argument);
  const cameras = askServe ? await namesFromServe(argument, options) : config.cameras;
  const source = askServe
    ? `the running serve at ${options.api ?? DEFAULT_API_URL}`
    : options.config ?? "the configuration";
  let target: CameraTarget;
  try {
    target = resolveCameraTarget(argument, cameras, source);
  } catch (error) {
    if (error instanceof CameraTargetError) throw usageError(error.message);
    throw error;
  }
  if (target.shortenedFrom && !options.json) {
    console.error(
      `note: ${target.shortenedFrom} is a long (${target.shortenedFrom.length}-character) UID; ` +
        `sending its ${target.uid.length}-character form ${target.uid}`,
    );
  }
  const servers = options.server ?? [config.server];
  let outcome: WakeOutcome;
  try {
    outcome = await wakeCamera({
      uid: target.uid,
      servers,
      timeoutMs: options.timeout * 1000,
    });
  } catch (error) {
    if (error instanceof ServerAddressError) throw new CliExit(EXIT.FAILURE, error.message);
    throw error;
  }
  const label = cameraLabel(target);
  if (outcome.result !== "woken") {
    const message = failureMessage(outcome, label);
    return finish(wakeJson(target.uid, outcome, message), options.json, EXIT_OF[outcome.result]);
  }
  const json = wakeJson(target.uid, outcome, wokenMessage(outcome, label));
  if (!options.wait) return finish(json, options.json, EXIT.OK);
  if (outcome.camera === undefined) {
    json.message += "; the register did not say where the camera is (no <dev>), so --wait " +
      "cannot probe it";
    return finish(json, options.json, EXIT.FAILURE);
  }
  if (!options.json) console.log(json.message);
  const wait = await waitForCameraPort({
    camera: { ip: outcome.camera.ip, port: options.cameraPort },
    timeoutMs: options.waitTimeout * 1000,
  });
  if (wait.result === "timeout") {
    json.result = "timeout";
    json.step = "camera_port";
    json.message = waitFailure(wait, label, outcome.sid);
    return finish(json, options.json, EXIT.TIMEOUT);
  }
  json.online_ms = wait.onlineMs;
  json.message = `camera ${label} is online: ${formatAddress(wait.camera)} accepted a ` +
    `connection ${formatSeconds(wait.onlineMs)} after the wake`;
  finish(json, options.json, EXIT.OK);
}

/** The `wake` subcommand. */
export function wakeCommand(): Command {
  return new Command("wake")
    .summary("Wake a sleeping camera through a wake server")
    .description(
      "Wake a sleeping camera the way the Reolink app and neolink do: ask the middleman " +
        "(UDP 9999) where the register is (C2M_Q), then ask the register to wake the camera " +
        "(C2R_C). Works against `bairelay serve` and, through DNS, any server speaking the " +
        "protocol.",
    )
    .argument(
      "<uid-or-name>",
      "Camera UID (16 characters, any case; a 20-character one is shortened) or a camera " +
        "name (from --config, else asked of the running serve's API)",
    )
    .option(
      "-s, --server <host[:port]>",
      "Wake server middleman (port 9999 unless given); repeat to ask several, the first to " +
        "answer wins (default: 127.0.0.1:9999, or the bind address and middleman port of --config)",
      serverList,
    )
    .option(
      "-t, --timeout <seconds>",
      "Time allowed for the protocol exchange",
      seconds,
      DEFAULT_TIMEOUT_SECONDS,
    )
    .option("-w, --wait", "After the wake, wait until the camera accepts TCP connections")
    .option(
      "--wait-timeout <seconds>",
      "How long --wait waits for the camera's port",
      seconds,
      DEFAULT_WAIT_TIMEOUT_SECONDS,
    )
    .option(
      "--camera-port <port>",
      "The camera port --wait probes",
      portArgument,
      DEFAULT_CAMERA_PORT,
    )
    .option(
      "-c, --config <file>",
      "The serve config: its [[cameras]] names work instead of UIDs, and its wake server is the default",
    )
    .option(
      "--api <url>",
      `Where the running serve's API is, to look a camera name up (default: ${DEFAULT_API_URL})`,
      apiUrlArgument,
    )
    .option("--token <token>", "Bearer token, if the API has one (default: $BAIRELAY_API_TOKEN)")
    .option(
      "--json",
      "Print one JSON object on stdout, success or not: uid, server, result, camera, sid, " +
        "elapsed_ms, online_ms, step, message",
    )
    .addHelpText(
      "after",
      `
Exit codes:
  0  woken (and online, with --wait)
  1  unusable reply or unresolvable server
  2  bad arguments or config
  3  camera not registered with that server
  4  no answer in time (the message says which step and which address), or with
     --wait the camera never opened its port

Examples:
  bairelay wake 95270000ABCDEFGH              # through the local bairelay serve
  bairelay wake garden                        # a name the running serve knows
  bairelay wake front-door --config /etc/bairelay/config.toml --wait
  bairelay wake 95270000ABCDEFGH --server p2p.reolink.com  # the DNS redirect
  bairelay wake 95270000ABCDEFGH --server 192.168.1.5 --server 192.168.1.6:19999
  bairelay wake 95270000ABCDEFGH --json --timeout 5 | jq .result`,
    )
    .action((argument: string, options: WakeOptions) => runWake(argument, options));
}
