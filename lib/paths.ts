/**
 * POSIX file paths: the four operations the configuration needs (where the state directory
 * and relative paths resolve). Ours rather than `node:path` or the `pathe` package: both touch
 * Deno's Node `process` object as they load, which brings up its Node compatibility layer,
 * about 3 MB of resident memory for the whole life of `serve`.
 */

/** True when `path` starts at the root. */
export function isAbsolute(path: string): boolean {
  return path.startsWith("/");
}

/** `parts` joined with "/" and normalized ("." and ".." resolved, repeated "/" collapsed). */
export function join(...parts: string[]): string {
  const joined = parts.filter((part) => part !== "").join("/");
  return joined === "" ? "." : normalize(joined, true);
}

/** `parts` resolved right to left until one is absolute, against Deno.cwd() if none is. */
export function resolve(...parts: string[]): string {
  let path = "";
  for (let i = parts.length - 1; i >= 0 && !isAbsolute(path); i--) {
    if (parts[i] !== "") path = path === "" ? parts[i] : `${parts[i]}/${path}`;
  }
  if (!isAbsolute(path)) path = path === "" ? Deno.cwd() : `${Deno.cwd()}/${path}`;
  return normalize(path, false);
}

/** The directory part of `path`, as POSIX `dirname` ("." when it has none, "/" for the root). */
export function dirname(path: string): string {
  if (path === "") return ".";
  // The last slash before the last name, trailing slashes skipped.
  let end = -1;
  let inName = false;
  for (let i = path.length - 1; i >= 1; i--) {
    if (path[i] !== "/") inName = true;
    else if (inName) {
      end = i;
      break;
    }
  }
  if (end === -1) return isAbsolute(path) ? "/" : ".";
  if (isAbsolute(path) && end === 1) return "//";
  return path.slice(0, end);
}

/** "." and ".." segments resolved, repeated "/" collapsed; a trailing "/" kept when `keepTrailing`. */
function normalize(path: string, keepTrailing: boolean): string {
  const absolute = isAbsolute(path);
  const segments: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment !== "..") segments.push(segment);
    else if (segments.length > 0 && segments.at(-1) !== "..") segments.pop();
    else if (!absolute) segments.push("..");
  }
  const body = segments.join("/");
  const normal = absolute ? `/${body}` : body || ".";
  return keepTrailing && path.endsWith("/") && !normal.endsWith("/") ? `${normal}/` : normal;
}
