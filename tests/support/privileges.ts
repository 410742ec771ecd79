/**
 * Running a command without the right to bind ports below 1024, so bind errors on privileged
 * ports are real: as root, `setpriv` drops CAP_NET_BIND_SERVICE from the child's bounding set;
 * as any other user nothing is needed.
 */

const setprivAvailable = (() => {
  try {
    return new Deno.Command("setpriv", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
})();
const isRoot = Deno.uid() === 0;

/** Why such a test cannot run here (root without setpriv), or undefined when it can. */
export const UNPRIVILEGED_SKIP_REASON = isRoot && !setprivAvailable
  ? "root without setpriv cannot drop the capability"
  : undefined;

/** The words to put before a command line so it runs without CAP_NET_BIND_SERVICE. */
export function withoutBindCapability(command: string[]): string[] {
  return isRoot ? ["setpriv", "--bounding-set=-net_bind_service", ...command] : command;
}
