/**
 * Runs the real `startService` in-process for tests: wake server and API on ephemeral loopback
 * ports, state in a fresh temp directory, everything closed and removed afterwards.
 */

import { type Config, loadConfig } from "../../lib/config.ts";
import { type Service, type ServiceDeps, startService } from "../../lib/service.ts";

/** Tweaks applied to the test config (defaults: loopback, ephemeral ports, temp state). */
export interface ServiceFixtureOptions {
  wakeServer?: Partial<Config["wakeServer"]>;
  cameras?: Config["cameras"];
  token?: string;
  /** Use this state directory instead of a fresh temp one (kept afterwards). */
  stateDir?: string;
  deps?: ServiceDeps;
  /** Run the push listener on 127.0.0.1, ephemeral port (default: off). */
  push?: boolean;
}

/** A running service plus the base URL of its API. */
export interface ServiceFixture {
  service: Service;
  config: Config;
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
  const config: Config = {
    ...base,
    bind: "127.0.0.1",
    stateDir: options.stateDir ?? tempDir!,
    wakeServer: { ...base.wakeServer, middlemanPort: 0, registerPort: 0, ...options.wakeServer },
    cameras: options.cameras ?? [],
    api: { ...base.api, listen: { host: "127.0.0.1", port: 0 }, token: options.token ?? null },
    pushListener: options.push
      ? { ...base.pushListener, enable: true, bind: "127.0.0.1", port: 0 }
      : { ...base.pushListener, enable: false },
  };
  const service = await startService(config, options.deps);
  const apiUrl = `http://127.0.0.1:${service.api!.address.port}`;
  return {
    service,
    config,
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
