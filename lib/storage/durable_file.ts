/**
 * Files in the state directory that must survive a power cut: written to a temporary file,
 * synced, renamed over the old one, and the directory synced, so a reader finds either the
 * old file or the new one whole. Routers and NAS boxes lose power; without the syncs some
 * file systems can leave an empty or partial file behind the rename.
 */

/** The suffix of the temporary files `writeDurably` makes (`<file>.<pid>.tmp`). */
export const TEMP_SUFFIX = ".tmp";

/** Bytes of text encoded per write (one buffer, reused). */
const WRITE_BUFFER_BYTES = 64 * 1024;
const encoder = new TextEncoder();

/** The temporary file this process writes `path` through. */
function tempPathFor(path: string): string {
  return `${path}.${Deno.pid}${TEMP_SUFFIX}`;
}

/**
 * Replaces `path` with the text made of `pieces`, durably: temp file, fsync, rename, fsync
 * of the directory. Pieces are encoded one at a time through one buffer, so a large file
 * never becomes one large string.
 */
export async function writeDurably(path: string, pieces: Iterable<string>): Promise<void> {
  const temp = tempPathFor(path);
  const file = await Deno.open(temp, { write: true, create: true, truncate: true });
  try {
    const buffer = new Uint8Array(WRITE_BUFFER_BYTES);
    for (const piece of pieces) {
      // A piece fits unless it is freakishly long; such a one is encoded on its own.
      const bytes = piece.length * 3 <= buffer.length
        ? buffer.subarray(0, encoder.encodeInto(piece, buffer).written)
        : encoder.encode(piece);
      for (let done = 0; done < bytes.length;) done += await file.write(bytes.subarray(done));
    }
    await file.sync();
  } finally {
    file.close();
  }
  await Deno.rename(temp, path);
  await syncDirectory(directoryOf(path));
}

/** The directory part of `path` ("." for a bare name). */
function directoryOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "." : slash === 0 ? "/" : path.slice(0, slash);
}

/** Makes a rename in `dir` durable. File systems that cannot sync a directory are let be. */
async function syncDirectory(dir: string): Promise<void> {
  let handle: Deno.FsFile;
  try {
    handle = await Deno.open(dir, { read: true });
  } catch {
    return;
  }
  try {
    await handle.sync();
  } catch {
    // Some file systems (and some platforms) refuse fsync on a directory: the rename stands.
  } finally {
    handle.close();
  }
}

/**
 * Removes the temporary files a killed run left beside `path` (`<name>.<pid>.tmp`), other
 * than this process's own. Returns the paths removed; files it may not remove are left.
 */
export async function removeLeftoverTemps(path: string): Promise<string[]> {
  const dir = directoryOf(path);
  const prefix = path.slice(path.lastIndexOf("/") + 1) + ".";
  const own = tempPathFor(path);
  const removed: string[] = [];
  let entries: AsyncIterable<Deno.DirEntry>;
  try {
    entries = Deno.readDir(dir);
  } catch {
    return removed;
  }
  try {
    for await (const entry of entries) {
      if (!entry.isFile || !entry.name.startsWith(prefix)) continue;
      const middle = entry.name.slice(prefix.length, -TEMP_SUFFIX.length);
      if (!entry.name.endsWith(TEMP_SUFFIX) || !/^[0-9]+$/.test(middle)) continue;
      const leftover = `${dir}/${entry.name}`;
      if (leftover === own) continue;
      try {
        await Deno.remove(leftover);
        removed.push(leftover);
      } catch { /* not ours to remove: leave it */ }
    }
  } catch { /* the directory is gone or unreadable: nothing to clean */ }
  return removed;
}

/** What `keepAside` did with an unusable file. */
export interface KeptAside {
  /** What was wrong (and, when it could not be moved, why). */
  message: string;
  /** Where the file now is; absent when it could not be moved. */
  movedTo?: string;
}

/**
 * Moves an unusable file (unreadable, corrupt, torn or empty) to `<file>.corrupt-<time>`, so
 * the server can start afresh without losing what the file held. Never throws.
 */
export async function keepAside(path: string, error: Error, at: number): Promise<KeptAside> {
  const movedTo = `${path}.corrupt-${new Date(at).toISOString().replace(/[:.]/g, "-")}`;
  const message = `state file ${path} is unusable: ${error.message}`;
  try {
    await Deno.rename(path, movedTo);
    return { message, movedTo };
  } catch (renameError) {
    return { message: `${message}; could not move it aside: ${(renameError as Error).message}` };
  }
}
