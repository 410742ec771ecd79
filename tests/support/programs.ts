/**
 * Finding the programs the tests drive, for any user. Debian puts several of them (dnsmasq,
 * mosquitto, debootstrap) in /usr/sbin, which is on root's PATH but not on an ordinary user's,
 * so a bare name fails to spawn there although the program is installed. Run as a script, this
 * file prints the Debian packages to install for the programs that are missing (scripts/test
 * installs them), so the tests and the installer search the same places.
 */

/** Searched after PATH: where system programs live that an ordinary user's PATH leaves out. */
const SYSTEM_DIRS = ["/usr/local/sbin", "/usr/sbin", "/sbin"];

/** Every program the tests run beyond coreutils, with the Debian package that provides it. */
export const TEST_PROGRAMS: Readonly<Record<string, string>> = {
  mosquitto: "mosquitto",
  mosquitto_passwd: "mosquitto",
  tshark: "tshark",
  dumpcap: "tshark",
  tcpdump: "tcpdump",
  ip: "iproute2",
  ss: "iproute2",
  openssl: "openssl", // TLS broker certificates (MQTT tests)
  dnsmasq: "dnsmasq-base", // the DNS tests' upstream (no system service)
  dig: "bind9-dnsutils", // the DNS tests' client
  chromium: "chromium", // the status page tests' browser (puppeteer-core)
  promtool: "prometheus", // checks /metrics
  podman: "podman", // the container test builds the Dockerfile...
  debootstrap: "debootstrap", // ... on a Debian base image made here
  "systemd-analyze": "systemd", // systemd-analyze verify (the unit)
  setpriv: "util-linux", // runs commands as another user or without a capability
  script: "bsdutils", // gives a command a terminal
  strace: "strace", // shows that state files are synced before and after their rename
};

function isExecutableFile(path: string): boolean {
  try {
    const info = Deno.statSync(path);
    return info.isFile && info.mode !== null && (info.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** The absolute path of program `name` on PATH or in the system directories, or undefined. */
export function findProgram(name: string): string | undefined {
  const path = (Deno.env.get("PATH") ?? "").split(":").filter((dir) => dir !== "");
  return [...path, ...SYSTEM_DIRS].map((dir) => `${dir}/${name}`).find(isExecutableFile);
}

/**
 * What to spawn for program `name`: its absolute path when it is installed anywhere this user
 * can run it, else the bare name, so spawning fails with the usual "not found" naming it.
 */
export function programPath(name: string): string {
  return findProgram(name) ?? name;
}

/** The Debian packages that provide the missing programs of TEST_PROGRAMS, each once. */
export function missingPackages(): string[] {
  const missing = Object.entries(TEST_PROGRAMS).filter(([name]) => !findProgram(name));
  return [...new Set(missing.map(([, debianPackage]) => debianPackage))];
}

if (import.meta.main) {
  console.log(missingPackages().join(" "));
}
