/** The control API's HTTP layer: route table, methods, bearer token, listen refusals, bind errors. */

import assert from "node:assert/strict";
import { type Route, startHttpApi } from "../lib/api/http.ts";
import { DEFAULT_API_LIMITS } from "../lib/api/config.ts";
import { ListenError } from "../lib/net/listen_error.ts";
import { jsonResponse } from "../lib/api/json_response.ts";
import { healthRoute } from "../lib/api/routes.ts";

const echo: Route = {
  method: "POST",
  path: "/api/things/:name/poke",
  handle: (_request, params) => jsonResponse(202, { poked: params.name }),
};
const broken: Route = {
  method: "GET",
  path: "/api/broken",
  handle: () => {
    throw new Error("bug");
  },
};

async function withApi(
  token: string | null,
  body: (base: string) => Promise<void>,
): Promise<void> {
  const api = await startHttpApi({
    listen: { host: "127.0.0.1", port: 0 },
    token,
    routes: [healthRoute(), echo, broken],
    limits: DEFAULT_API_LIMITS,
  });
  try {
    await body(`http://127.0.0.1:${api.address.port}`);
  } finally {
    await api.close();
  }
}

async function call(url: string, init: RequestInit = {}) {
  const response = await fetch(url, init);
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) };
}

Deno.test("routes: params are decoded, unknown paths 404, wrong methods 405 with Allow", async () => {
  await withApi(null, async (base) => {
    const poked = await call(`${base}/api/things/front%20door/poke`, { method: "POST" });
    assert.equal(poked.status, 202);
    assert.deepEqual(poked.json(), { poked: "front door" });
    assert.match(poked.headers.get("content-type")!, /application\/json/);

    const missing = await call(`${base}/api/nothing`);
    assert.equal(missing.status, 404);
    assert.match(missing.json().error, /no such endpoint: \/api\/nothing/);

    const wrongMethod = await call(`${base}/api/things/x/poke`);
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get("allow"), "POST");

    const health = await call(`${base}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(health.json(), { status: "ok" });
  });
});

Deno.test("routes: a throwing handler is a 500 and the server keeps answering", async () => {
  await withApi(null, async (base) => {
    const failed = await call(`${base}/api/broken`);
    assert.equal(failed.status, 500);
    assert.match(failed.json().error, /internal error/);
    assert.equal((await call(`${base}/healthz`)).status, 200);
  });
});

Deno.test("token: required on every route but /healthz, checked exactly", async () => {
  await withApi("s3cret-token", async (base) => {
    const url = `${base}/api/things/a/poke`;
    const none = await call(url, { method: "POST" });
    assert.equal(none.status, 401);
    assert.match(none.headers.get("www-authenticate")!, /^Bearer/);
    assert.match(none.json().error, /bearer token/);
    for (
      const header of ["Bearer wrong", "Bearer s3cret-toke", "Bearer s3cret-token2", "Basic x"]
    ) {
      const refused = await call(url, { method: "POST", headers: { authorization: header } });
      assert.equal(refused.status, 401, header);
    }
    const ok = await call(url, {
      method: "POST",
      headers: { authorization: "Bearer s3cret-token" },
    });
    assert.equal(ok.status, 202);
    assert.equal((await call(`${base}/healthz`)).status, 200, "health checks need no token");
  });
});

Deno.test("a non-loopback listen without a token is refused; with one it starts", async () => {
  await assert.rejects(
    startHttpApi({
      listen: { host: "0.0.0.0", port: 0 },
      token: null,
      routes: [],
      limits: DEFAULT_API_LIMITS,
    }),
    (error: unknown) => {
      assert.ok(error instanceof ListenError);
      assert.equal(error.code, "NO_TOKEN");
      assert.match(error.message, /0\.0\.0\.0:0 without a token/);
      return true;
    },
  );
  const api = await startHttpApi({
    listen: { host: "0.0.0.0", port: 0 },
    token: "t",
    routes: [healthRoute()],
    limits: DEFAULT_API_LIMITS,
  });
  try {
    // Only loopback traffic in tests: reach the wildcard listener through 127.0.0.1.
    const response = await fetch(`http://127.0.0.1:${api.address.port}/healthz`);
    assert.equal(response.status, 200);
    await response.body?.cancel();
  } finally {
    await api.close();
  }
});

Deno.test("a port in use is a ListenError naming the address, the port and a remedy", async () => {
  const holder = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (holder.addr as Deno.NetAddr).port;
  try {
    await assert.rejects(
      startHttpApi({
        listen: { host: "127.0.0.1", port },
        token: null,
        routes: [],
        limits: DEFAULT_API_LIMITS,
      }),
      (error: unknown) => {
        assert.ok(error instanceof ListenError);
        assert.equal(error.code, "EADDRINUSE");
        assert.equal(error.port, port);
        assert.match(
          error.message,
          new RegExp(`127\\.0\\.0\\.1:${port}.*port ${port} is already in use`),
        );
        assert.match(error.message, /choose another port/);
        return true;
      },
    );
  } finally {
    holder.close();
  }
});
