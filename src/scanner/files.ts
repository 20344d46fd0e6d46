import type { Dirent } from "node:fs";
import { type FileHandle, open, readdir, stat } from "node:fs/promises";
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

function giveBack(buffer: Buffer): void {
  if (spare.length < MAX_SPARE) spare.push(buffer);
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
  return { path, chunks: () => chunksFrom(startReading(path)) };
}

/**
 * The files at `paths`, in order, each opened and its first chunk read while the one before it
 * is consumed: waiting for an open and a first read at every file left a scan of many files idle
 * a tenth of the time. At most the file being consumed and the next one are open.
 */
export async function* readAhead(paths: readonly string[]): AsyncGenerator<InputFile> {
  let next = paths.length > 0 ? startReading(paths[0] as string) : undefined;
  try {
    for (let i = 0; i < paths.length; i++) {
      const current = next as Reading;
      next = i + 1 < paths.length ? startReading(paths[i + 1] as string) : undefined;
      let taken = false;
      try {
        yield {
          path: paths[i] as string,
          chunks: () => {
            // The first chunk is read once, into a buffer that goes back to the pool after.
            if (taken) throw new Error(`readAhead: the chunks of ${paths[i]} can be read once`);
            taken = true;
            return chunksFrom(current);
          },
        };
      } finally {
        if (!taken) await abandon(current);
      }
    }
  } finally {
    if (next) await abandon(next);
  }
}

/** A file being opened, and its first chunk being read into `buffer`. */
interface Reading {
  buffer: Buffer;
  opened: Promise<FileHandle>;
  first: Promise<{ bytesRead: number }>;
}

function startReading(path: string): Reading {
  const buffer = takeBuffer();
  const opened = open(path, "r");
  const first = opened.then((handle) => handle.read(buffer, 0, READ_CHUNK, null));
  // Both are awaited when the file is consumed or abandoned; until then a failure is not unhandled.
  opened.catch(() => {});
  first.catch(() => {});
  return { buffer, opened, first };
}

// Two buffers, refilled in turn: the next chunk is read while the scanner works on this one (a
// read waits on a thread of the pool, and the scanner would otherwise wait with it), and the
// scanner copies what it keeps before asking for the next one, so a scan of many large files
// allocates next to nothing.
async function* chunksFrom(reading: Reading): AsyncGenerator<Uint8Array> {
  const handle = await reading.opened;
  const buffers = [reading.buffer, takeBuffer()];
  let turn = 0;
  let pending = reading.first;
  try {
    for (;;) {
      const { bytesRead } = await pending;
      if (bytesRead === 0) return;
      const chunk = (buffers[turn] as Buffer).subarray(0, bytesRead);
      turn ^= 1;
      pending = handle.read(buffers[turn] as Buffer, 0, READ_CHUNK, null);
      yield chunk;
    }
  } finally {
    // A read still under way when the scan stops early must end before the file is closed.
    await pending.catch(() => undefined);
    await handle.close();
    for (const buffer of buffers) giveBack(buffer);
  }
}

async function abandon(reading: Reading): Promise<void> {
  const handle = await reading.opened.catch(() => undefined);
  if (!handle) return;
  await reading.first.catch(() => undefined);
  await handle.close();
  giveBack(reading.buffer);
}
