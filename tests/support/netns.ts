/**
 * A throwaway network namespace joined to this one by a veth pair, for tests that need a
 * peer on another network (addresses in 10.x that exist only on this veth). Needs root
 * (CAP_NET_ADMIN); `canCreateNetns()` says whether that works here.
 */

import { programPath } from "./programs.ts";

/** A created namespace and the addresses on each end of its veth pair. */
export interface Netns {
  name: string;
  /** Our end's address (the root namespace side). */
  hostIp: string;
  /** The namespace end's address. */
  nsIp: string;
  /** Deletes the namespace and the veth pair. */
  remove(): Promise<void>;
}

async function ip(args: string[]): Promise<{ ok: boolean; stderr: string }> {
  try {
    const out = await new Deno.Command(programPath("ip"), { args, stdout: "null", stderr: "piped" })
      .output();
    return { ok: out.success, stderr: new TextDecoder().decode(out.stderr).trim() };
  } catch (error) {
    return { ok: false, stderr: (error as Error).message };
  }
}

async function must(args: string[]): Promise<void> {
  const result = await ip(args);
  if (!result.ok) throw new Error(`ip ${args.join(" ")}: ${result.stderr}`);
}

/**
 * Creates namespace + veth pair with a random /30 in 10.213.0.0/16. Throws with the
 * `ip` error when it cannot (use it to skip visibly).
 */
export async function createNetns(): Promise<Netns> {
  const tag = crypto.getRandomValues(new Uint16Array(1))[0].toString(16).padStart(4, "0");
  const name = `brwk-${tag}-${Deno.pid}`;
  const hostIf = `brw${tag}h`;
  const nsIf = `brw${tag}n`;
  const block = (crypto.getRandomValues(new Uint16Array(1))[0] % 16384) * 4;
  const base = `10.213.${block >> 8}.`;
  const hostIp = `${base}${(block & 0xff) + 1}`;
  const nsIp = `${base}${(block & 0xff) + 2}`;
  const remove = async () => {
    await ip(["link", "del", hostIf]);
    await ip(["netns", "del", name]);
  };
  try {
    await must(["netns", "add", name]);
    await must(["link", "add", hostIf, "type", "veth", "peer", "name", nsIf]);
    await must(["link", "set", nsIf, "netns", name]);
    await must(["addr", "add", `${hostIp}/30`, "dev", hostIf]);
    await must(["link", "set", hostIf, "up"]);
    await must(["-n", name, "addr", "add", `${nsIp}/30`, "dev", nsIf]);
    await must(["-n", name, "link", "set", nsIf, "up"]);
    await must(["-n", name, "link", "set", "lo", "up"]);
  } catch (error) {
    await remove();
    throw error;
  }
  return { name, hostIp, nsIp, remove };
}
