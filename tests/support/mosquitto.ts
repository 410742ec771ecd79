/**
 * A real Mosquitto broker for tests: `mosquitto` on 127.0.0.1 and a free port, with
 * a generated config in a temporary directory (optionally a password file, so credentials are
 * enforced). It can be stopped and started again on the same port to simulate an outage.
 * `Subscriber` is the test's view of the broker: it records every message it receives.
 */

import mqtt, { type MqttClient } from "mqtt";
import { programPath } from "./programs.ts";

const MOSQUITTO = programPath("mosquitto");
const MOSQUITTO_PASSWD = programPath("mosquitto_passwd");
/** Longest wait for the broker to accept connections after a start. */
const READY_TIMEOUT_MS = 5000;

/** What the broker enforces. */
export interface MosquittoOptions {
  /** Users and passwords; when given, anonymous clients are refused. */
  users?: Record<string, string>;
  /** Port to listen on (default: a free one). */
  port?: number;
  /**
   * Listen with TLS (a fresh CA, a server certificate for 127.0.0.1 and a client certificate,
   * made with openssl) and require a client certificate signed by that CA.
   */
  tls?: boolean;
  /**
   * Keep retained messages and persistent sessions (clean: false clients) across a stop and
   * start, like a production broker with persistence on.
   */
  persistent?: boolean;
}

/** PEM files of a TLS broker: the CA to trust and a client certificate it accepts. */
export interface TestPki {
  ca: string;
  clientCert: string;
  clientKey: string;
}

/** A running (or stopped) test broker. */
export interface Mosquitto {
  readonly host: string;
  readonly port: number;
  /** The broker's log file (useful when a test fails). */
  readonly logFile: string;
  /** With `tls`: the files a client needs. */
  readonly pki?: TestPki;
  /** Stops the broker (SIGTERM, then waits for the process to exit). */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same config. */
  start(): Promise<void>;
  /** Stops it and removes its directory. */
  dispose(): Promise<void>;
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export function freePort(): number {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  return port;
}

/** Starts a broker and waits until it accepts TCP connections. */
export async function startMosquitto(options: MosquittoOptions = {}): Promise<Mosquitto> {
  const dir = await Deno.makeTempDir({ prefix: "bairelay-mosquitto-" });
  const host = "127.0.0.1";
  const port = options.port ?? freePort();
  const logFile = `${dir}/mosquitto.log`;
  const lines = [
    `listener ${port} ${host}`,
    `log_dest file ${logFile}`,
    "log_type error",
    "log_type warning",
    "log_type notice",
  ];
  lines.push(
    ...(options.persistent
      ? ["persistence true", `persistence_location ${dir}/`]
      : ["persistence false"]),
  );
  // As root, Mosquitto would switch to the "mosquitto" user, which cannot read our files.
  if (Deno.uid() === 0) lines.push("user root");
  if (options.users) {
    const passwordFile = `${dir}/passwd`;
    await Deno.writeTextFile(passwordFile, "");
    for (const [user, password] of Object.entries(options.users)) {
      const result = await new Deno.Command(MOSQUITTO_PASSWD, {
        args: ["-b", passwordFile, user, password],
        stdout: "null",
        stderr: "piped",
      }).output();
      if (!result.success) {
        throw new Error(`mosquitto_passwd failed: ${new TextDecoder().decode(result.stderr)}`);
      }
    }
    await Deno.chmod(passwordFile, 0o600);
    lines.push("allow_anonymous false", `password_file ${passwordFile}`);
  } else {
    lines.push("allow_anonymous true");
  }
  let pki: TestPki | undefined;
  if (options.tls) {
    const server = await makePki(dir);
    pki = server.client;
    lines.push(
      `cafile ${server.client.ca}`,
      `certfile ${server.cert}`,
      `keyfile ${server.key}`,
      "require_certificate true",
    );
  }
  const configFile = `${dir}/mosquitto.conf`;
  await Deno.writeTextFile(configFile, lines.join("\n") + "\n");

  let child: Deno.ChildProcess | undefined;

  async function start(): Promise<void> {
    if (child) return;
    child = new Deno.Command(MOSQUITTO, {
      args: ["-c", configFile],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      try {
        const conn = await Deno.connect({ hostname: host, port });
        conn.close();
        return;
      } catch {
        if (Date.now() > deadline) {
          await stop();
          const log = await Deno.readTextFile(logFile).catch(() => "(no log)");
          throw new Error(`mosquitto did not listen on ${host}:${port} in time:\n${log}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  }

  async function stop(): Promise<void> {
    if (!child) return;
    const running = child;
    child = undefined;
    try {
      running.kill("SIGTERM");
    } catch { /* already exited */ }
    const timer = setTimeout(() => {
      try {
        running.kill("SIGKILL");
      } catch { /* already exited */ }
    }, 2000);
    await running.status;
    clearTimeout(timer);
  }

  await start();
  return {
    host,
    port,
    logFile,
    ...(pki ? { pki } : {}),
    start,
    stop,
    async dispose() {
      await stop();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function openssl(dir: string, args: string[]): Promise<void> {
  const result = await new Deno.Command("openssl", {
    args,
    cwd: dir,
    stdout: "null",
    stderr: "piped",
  })
    .output();
  if (!result.success) {
    throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(result.stderr)}`);
  }
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA. */
async function makePki(dir: string): Promise<{ cert: string; key: string; client: TestPki }> {
  const days = ["-days", "2"];
  await openssl(dir, [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-subj",
    "/CN=bairelay test CA",
    ...days,
  ]);
  for (
    const [name, subject, extension] of [
      ["server", "/CN=127.0.0.1", "subjectAltName=IP:127.0.0.1"],
      ["client", "/CN=bairelay", "extendedKeyUsage=clientAuth"],
    ]
  ) {
    await openssl(dir, [
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.csr`,
      "-subj",
      subject,
    ]);
    await Deno.writeTextFile(`${dir}/${name}.ext`, extension + "\n");
    await openssl(dir, [
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      `${name}.pem`,
      "-extfile",
      `${name}.ext`,
      ...days,
    ]);
  }
  return {
    cert: `${dir}/server.pem`,
    key: `${dir}/server.key`,
    client: {
      ca: `${dir}/ca.pem`,
      clientCert: `${dir}/client.pem`,
      clientKey: `${dir}/client.key`,
    },
  };
}

/** A message a test subscriber received. */
export interface Received {
  topic: string;
  payload: string;
  retain: boolean;
}

/** An MQTT subscriber (MQTT.js) that records every message on `filter`, for assertions. */
export class Subscriber {
  readonly messages: Received[] = [];
  readonly #client: MqttClient;

  private constructor(client: MqttClient) {
    this.#client = client;
    client.on("message", (topic, payload, packet) => {
      this.messages.push({ topic, payload: payload.toString(), retain: packet.retain });
    });
  }

  /**
   * Connects to `broker` and subscribes to `filter` (default: everything). With a `clientId`
   * and `clean: false` on a persistent broker, it picks up what was queued while it was away.
   */
  static async connect(
    broker: { host: string; port: number },
    filter = "#",
    options: { username?: string; password?: string; clientId?: string; clean?: boolean } = {},
  ): Promise<Subscriber> {
    const client = mqtt.connect({
      host: broker.host,
      port: broker.port,
      reconnectPeriod: 0,
      connectTimeout: 3000,
      ...options,
    });
    // Listen before the CONNACK: a persistent session delivers queued messages right after it.
    const subscriber = new Subscriber(client);
    try {
      await new Promise<void>((resolve, reject) => {
        client.once("connect", () => resolve());
        client.once("error", reject);
        client.once("close", () => reject(new Error("subscriber connection closed")));
      });
    } catch (error) {
      await client.endAsync(true);
      throw error;
    }
    await client.subscribeAsync(filter, { qos: 1 });
    return subscriber;
  }

  /** Publishes a message (e.g. a wakeup or homeassistant/status). */
  async publish(topic: string, payload: string, retain = false): Promise<void> {
    await this.#client.publishAsync(topic, payload, { qos: 1, retain });
  }

  /** The payload of the last message on `topic`. */
  latest(topic: string): string | undefined {
    return this.messages.findLast((m) => m.topic === topic)?.payload;
  }

  /** Every payload received on `topic`, in order. */
  payloads(topic: string): string[] {
    return this.messages.filter((m) => m.topic === topic).map((m) => m.payload);
  }

  /** Waits (bounded) for a message matching `predicate` at index `from` or later. */
  async waitFor(
    predicate: (message: Received) => boolean,
    what: string,
    { from = 0, timeoutMs = 5000 } = {},
  ): Promise<Received> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.slice(from).find(predicate);
      if (found) return found;
      if (Date.now() > deadline) {
        const seen = this.messages.map((m) => `${m.topic}=${m.payload.slice(0, 40)}`).join("\n  ");
        throw new Error(`timed out waiting for ${what}; received:\n  ${seen}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Waits (bounded) for `topic` to carry `payload`, received at index `from` or later. */
  waitForPayload(
    topic: string,
    payload: string,
    options: { from?: number; timeoutMs?: number } = {},
  ) {
    return this.waitFor(
      (m) => m.topic === topic && m.payload === payload,
      `${topic}=${payload}`,
      options,
    );
  }

  async close(): Promise<void> {
    await this.#client.endAsync(true);
  }
}
