/**
 * The container's HEALTHCHECK: exits 0 when `serve` answers GET /healthz, 1 otherwise. The
 * address is $BAIRELAY_HEALTHZ (an API base URL), by default the API's default listen address.
 */

import { checkHealth } from "../../lib/api/client.ts";

const url = Deno.env.get("BAIRELAY_HEALTHZ") || "http://127.0.0.1:9899";
try {
  await checkHealth({ url, timeoutMs: 4000 });
} catch (error) {
  console.error(
    `bairelay healthcheck: ${url}/healthz: ${error instanceof Error ? error.message : error}`,
  );
  Deno.exit(1);
}
