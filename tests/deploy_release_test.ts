/**
 * scripts/release. Here `deno compile` cannot download Deno's runtime base (these machines have
 * no access to dl.deno.land), which is what this test meets: the script must then fail at once
 * with a message that says so, and leave nothing behind. To keep the test's traffic on
 * loopback, the download goes through a proxy address on 127.0.0.1 where nothing listens (the
 * same failure, deterministic). Where the runtime base is in the Deno cache already, the build
 * succeeds instead and the test checks the tarballs and SHA256SUMS.
 */

import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { freeTcpPort } from "./support/serve_process.ts";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const TARGETS = ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"];

Deno.test("release: fails fast and clearly when Deno's runtime base cannot be downloaded", async () => {
  const out = join(await Deno.makeTempDir({ prefix: "bairelay-release-" }), "release");
  const proxy = `http://127.0.0.1:${freeTcpPort("127.0.0.1")}`; // closed: nothing listens
  try {
    const output = await new Deno.Command(join(ROOT, "scripts/release"), {
      env: { RELEASE_DIR: out, HTTPS_PROXY: proxy, HTTP_PROXY: proxy, NO_PROXY: "", NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(120_000), // a hang would be a failure, not a wait
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    if (output.success) {
      // The runtime bases were cached: a real release was built.
      const sums = await Deno.readTextFile(join(out, "SHA256SUMS"));
      for (const target of TARGETS) {
        assert.match(sums, new RegExp(`bairelay-[\\d.]+-${target}\\.tar\\.gz`));
      }
      return;
    }
    assert.equal(output.code, 1, stderr);
    assert.match(
      stderr,
      /deno compile could not download Deno's runtime base for x86_64-unknown-linux-gnu\n {2}\(https:\/\/dl\.deno\.land\/release\/v[\d.]+\/denort-x86_64-unknown-linux-gnu\.zip\): .*refused/,
    );
    assert.match(stderr, /cannot reach dl\.deno\.land\. Run scripts\/release where it can/);
    assert.match(stderr, /nothing was released/);
    await assert.rejects(Deno.stat(out), Deno.errors.NotFound, "nothing left behind");
  } finally {
    await Deno.remove(dirname(out), { recursive: true });
  }
});
