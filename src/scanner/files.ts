import type { Dirent } from "node:fs";
import { open, readdir, stat } from "node:fs/promises";
import { join } from "node:path";

/** How much of a file is read to decide whether it is binary (as git and grep decide). */
const BINARY_PROBE = 8 * 1024;
const READ_CHUNK = 1024 * 1024;

// Read buffers outlive the file they were read for: a fresh megabyte costs the kernel a page
// fault per 4 KB on first touch, which made reading a directory of files cost more processor
// time than scanning them.
const MAX_SPARE = 4;
const spare: Buffer[] = [];

function takeBuffer(): Buffer {
  return spare.pop() ?? Buffer.allocUnsafe(READ_CHUNK);
}

export interface InputFile {
  path: string;
  /**
   * The file's bytes, in chunks; the file is closed when they are consumed. A chunk is valid only
   * until the next one is asked for, or the iteration ends (its memory then reads the next file).
   */
  chunks(): AsyncIterable<Uint8Array>;
}

export interface WalkEvents {
  /** A file met while walking a directory and passed over because it looks binary. */
  onSkip?: (path: string) => void;
}

/**
 * The files named, in order, and the files under the directories named, depth first in name
 * order, leaving out `.git` and files with a NUL byte in their first 8 KB. Symbolic links to
 * directories are not followed (they could loop); links to files are read.
 */
export async function* inputFiles(
  paths: readonly string[],
  events: WalkEvents = {},
): AsyncGenerator<InputFile> {
  for (const path of paths) {
    const info = await stat(path);
    if (info.isDirectory()) yield* walk(path, events);
    else yield fileInput(path);
  }
}

async function* walk(directory: string, events: WalkEvents): AsyncGenerator<InputFile> {
  const entries = (await readdir(directory, { withFileTypes: true })).sort((a, b) =>
    a.name < b.name ? -1 : 1,
  );
  for (const entry of entries) {
    if (entry.name === ".git") continue;
    const path = join(directory, entry.name);
    const kind = await kindOf(entry, path);
    if (kind === "directory") yield* walk(path, events);
    else if (kind === "file") {
      if (await looksBinary(path)) events.onSkip?.(path);
      else yield fileInput(path);
    }
  }
}

async function kindOf(entry: Dirent, path: string): Promise<"directory" | "file" | "other"> {
  if (entry.isDirectory()) return "directory";
  if (entry.isFile()) return "file";
  if (!entry.isSymbolicLink()) return "other";
  const target = await stat(path).catch(() => undefined);
  return target?.isFile() ? "file" : "other";
}

export async function looksBinary(path: string): Promise<boolean> {
  const handle = await open(path, "r");
  try {
    const probe = Buffer.alloc(BINARY_PROBE);
    const { bytesRead } = await handle.read(probe, 0, BINARY_PROBE, 0);
    return probe.subarray(0, bytesRead).includes(0);
  } finally {
    await handle.close();
  }
}

export function fileInput(path: string): InputFile {
  return {
    path,
    // Two buffers, refilled in turn: the next chunk is read while the scanner works on this one
    // (a read waits on a thread of the pool, and the scanner would otherwise wait with it), and
    // the scanner copies what it keeps before asking for the next one, so a scan of many large
    // files allocates next to nothing.
    async *chunks() {
      const handle = await open(path, "r");
      const buffers = [takeBuffer(), takeBuffer()];
      let turn = 0;
      let reading = handle.read(buffers[0] as Buffer, 0, READ_CHUNK, null);
      try {
        for (;;) {
          const { bytesRead } = await reading;
          if (bytesRead === 0) return;
          const chunk = (buffers[turn] as Buffer).subarray(0, bytesRead);
          turn ^= 1;
          reading = handle.read(buffers[turn] as Buffer, 0, READ_CHUNK, null);
          yield chunk;
        }
      } finally {
        // A read still under way when the scan stops early must end before the file is closed.
        await reading.catch(() => undefined);
        await handle.close();
        for (const buffer of buffers) if (spare.length < MAX_SPARE) spare.push(buffer);
      }
    },
  };
}
