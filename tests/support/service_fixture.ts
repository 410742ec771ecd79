/**
 * Runs the real `startService` in-process for tests: wake server and API on ephemeral loopback
 * ports, state in a fresh temp directory, everything closed and removed afterwards. The one
 * place tests build serve's config (`serve_process.ts` runs the real command instead).
 */

import { type Config, loadConfig } from "../../lib/config.ts";
import { type Service, type ServiceDeps, startService } from "../../lib/serve/service.ts";

/** Tweaks applied to the test config (defaults: loopback, ephemeral ports, temp state). */
export interface ServiceFixtureOptions {
  wakeServer?: Partial<Config["wakeServer"]>;
  cameras?: Config["cameras"];
  token?: string;
  /** Use this state directory instead of a fresh temp one (kept afterwards). */
  stateDir?: string;
  deps?: ServiceDeps;
  /**
   * Run the push listener on 127.0.0.1, ephemeral port, with these settings (default: off);
   * `true` = its defaults.
   */
  push?: boolean | Partial<Config["pushListener"]>;
  /** `[mqtt]` settings (default: no broker, bridge off). */
  mqtt?: Partial<Config["mqtt"]>;
}

/** A running service plus the base URL of its API. */
export interface ServiceFixture {
  service: Service;
  config: Config;
  /** The state directory (a temp one unless `stateDir` was given). */
  stateDir: string;
  /** "http://127.0.0.1:PORT". */
  apiUrl: string;
  /** The middleman address cameras boot against. */
  middleman: { ip: string; port: number };
  /** fetch() against the API with the fixture's token, returning status and parsed body. */
  call(method: string, path: string, token?: string | null): Promise<ApiReply>;
  close(): Promise<void>;
}

/** An API reply, read to the end. */
export interface ApiReply {
  status: number;
  headers: Headers;
  text: string;
  // deno-lint-ignore no-explicit-any
  json: any;
}

/** Starts a service for a test; call `close()` in a `finally`. */
export async function startServiceFixture(
  options: ServiceFixtureOptions = {},
): Promise<ServiceFixture> {
  const base = loadConfig({ env: { uid: 1000, vars: {} } });
  const tempDir = options.stateDir ? null : await Deno.makeTempDir({ prefix: "bairelay-svc-" });
  const stateDir = options.stateDir ?? tempDir!;
  const push = options.push === true ? {} : options.push;
  const config: Config = {
    ...base,
    bind: "127.0.0.1",
    stateDir,
    wakeServer: { ...base.wakeServer, middlemanPort: 0, registerPort: 0, ...options.wakeServer },
    cameras: options.cameras ?? [],
    api: { ...base.api, listen: { host: "127.0.0.1", port: 0 }, token: options.token ?? null },
    pushListener: push
      ? { ...base.pushListener, enable: true, bind: "127.0.0.1", port: 0, ...push }
      : { ...base.pushListener, enable: false },
    mqtt: { ...base.mqtt, ...options.mqtt },
  };
  let service: Service;
  try {
    service = await startService(config, options.deps);
  } catch (error) {
    if (tempDir) await Deno.remove(tempDir, { recursive: true });
    throw error;
  }
  const apiUrl = `http://127.0.0.1:${service.api!.address.port}`;
  return {
    service,
    config,
    stateDir,
    apiUrl,
    middleman: service.wake!.middleman,
    async call(method, path, token = options.token ?? null) {
      const headers: Record<string, string> = {};
      if (token) headers.authorization = `Bearer ${token}`;
      const response = await fetch(apiUrl + path, { method, headers });
      const text = await response.text();
      let json = undefined;
      try {
        json = JSON.parse(text);
      } catch { /* not JSON (metrics) */ }
      return { status: response.status, headers: response.headers, text, json };
    },
    async close() {
      await service.close();
      if (tempDir) await Deno.remove(tempDir, { recursive: true });
    },
  };
}
