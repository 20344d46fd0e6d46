import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { type FileHandle, lstat, mkdir, open, readdir, rename, rmdir, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

// The file operations the sink is made of. Sandboxes may be able to change what is in their
// session directory, and the sink often runs as root, so nothing here follows a symbolic link:
// files are opened with O_NOFOLLOW, directories are checked with lstat and opened with
// O_NOFOLLOW before their mode or owner is set, and new content only ever appears by rename.
// Node has no openat(2), so a directory swapped for a link between its check and a write into it
// could still be followed: sandboxes get their directory read-only (see README).

/** Who the sandbox runs as; files and directories are handed to them when set. */
export interface Owner {
  uid?: number | undefined;
  gid?: number | undefined;
}

/** A path the sink refuses to write through (a link, or not the kind of entry expected). */
export class UnsafePathError extends Error {
  override readonly name = "UnsafePathError";
}

const TEMP_PATTERN = /^\..+\.tmp-[0-9a-f]{12}$/;
const ZEROS = Buffer.alloc(64 * 1024);

const errno = (error: unknown) => (error as NodeJS.ErrnoException).code;

async function handOver(handle: FileHandle, mode: number, owner: Owner): Promise<void> {
  await handle.chmod(mode);
  if (owner.uid !== undefined || owner.gid !== undefined)
    await handle.chown(owner.uid ?? -1, owner.gid ?? -1);
}

/** Refuses `path` unless it is a directory itself, not a link to one. */
export async function assertDirectory(path: string): Promise<void> {
  const stats = await lstat(path);
  if (stats.isSymbolicLink())
    throw new UnsafePathError(`${path} is a symbolic link; the sink never writes through links (remove it)`);
  if (!stats.isDirectory()) throw new UnsafePathError(`${path} exists and is not a directory (remove it)`);
}

/** Creates `path` (mode 0700) unless it is already a real directory; refuses a link or a file. */
export async function ensureDirectory(path: string, owner: Owner): Promise<void> {
  try {
    await mkdir(path, { mode: 0o700 });
  } catch (error) {
    if (errno(error) !== "EEXIST") throw error;
    await assertDirectory(path);
  }
  const handle = await open(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    await handOver(handle, 0o700, owner);
  } finally {
    await handle.close();
  }
}

async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Replaces `path` with `content` so that a reader sees the old file or the new one, never a
 * part: a fresh temp file in the same directory (O_EXCL, so nothing planted there is reused),
 * written, given its mode and owner, fsynced, renamed over `path`, then the directory fsynced.
 */
export async function writeFileAtomic(
  path: string,
  content: string,
  mode: number,
  owner: Owner,
): Promise<void> {
  const directory = dirname(path);
  const temp = join(directory, `.${basename(path)}.tmp-${randomBytes(6).toString("hex")}`);
  const handle = await open(
    temp,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o600,
  );
  try {
    try {
      await handle.writeFile(content, "utf8");
      await handOver(handle, mode, owner);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await wipeFile(temp).catch(() => undefined);
    throw error;
  }
  await syncDirectory(directory);
}

/** Reads a small regular file without following a link at its path. */
export async function readSmallFile(path: string, maxBytes: number): Promise<string> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const stats = await handle.stat();
    if (!stats.isFile() || stats.size > maxBytes)
      throw new UnsafePathError(`${path} is not a regular file of at most ${maxBytes} bytes`);
    return await handle.readFile("utf8");
  } finally {
    await handle.close();
  }
}

/**
 * Overwrites a regular file with as many zeros as it holds, fsyncs, and removes it; anything
 * else at the path (a link, a socket) is only removed. The file is made writable first through
 * its own handle, since the sink's files are read-only (0400) and it may not run as root.
 */
export async function wipeFile(path: string): Promise<void> {
  let reader: FileHandle;
  try {
    reader = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if (errno(error) === "ENOENT") return;
    if (errno(error) !== "ELOOP" && errno(error) !== "ENXIO") throw error;
    await unlink(path);
    return;
  }
  try {
    const stats = await reader.stat();
    if (stats.isFile()) {
      await reader.chmod(0o600);
      const writer = await open(path, constants.O_WRONLY | constants.O_NOFOLLOW);
      try {
        // The path could have been swapped between the two opens; only the inode checked is zeroed.
        if ((await writer.stat()).ino === stats.ino) {
          for (let offset = 0; offset < stats.size; offset += ZEROS.length) {
            await writer.write(ZEROS, 0, Math.min(ZEROS.length, stats.size - offset), offset);
          }
          await writer.sync();
        }
      } finally {
        await writer.close();
      }
    }
  } finally {
    await reader.close();
  }
  await unlink(path);
}

/**
 * Wipes every file under `path` (see wipeFile), removes the directories, and `path` itself unless
 * `keepRoot` (a sidecar's directory may be a mount point). A link is removed, never followed.
 */
export async function wipeTree(path: string, keepRoot: boolean): Promise<void> {
  let stats: Awaited<ReturnType<typeof lstat>>;
  try {
    stats = await lstat(path);
  } catch (error) {
    if (errno(error) === "ENOENT") return;
    throw error;
  }
  if (!stats.isDirectory()) {
    await wipeFile(path);
    return;
  }
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) await wipeTree(child, false);
    else await wipeFile(child);
  }
  if (!keepRoot) await rmdir(path);
}

/** Wipes temp files a crashed write left behind (they may hold secrets) anywhere under `path`. */
export async function wipeTempFiles(path: string): Promise<void> {
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) await wipeTempFiles(child);
    else if (TEMP_PATTERN.test(entry.name)) await wipeFile(child);
  }
}
