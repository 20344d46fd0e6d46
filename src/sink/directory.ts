import { sha256Hex } from "../crypto/hash.js";
import {
  assertDirectory,
  ensureDirectory,
  type Owner,
  wipeFile,
  wipeTempFiles,
  wipeTree,
  writeFileAtomic,
} from "./files.js";
import type { LayoutFile } from "./layout.js";

/** Every file is read-only for its owner: the sandbox reads, only the sink replaces (by rename). */
const FILE_MODE = 0o400;

/** One session's directory on disk: the only code that writes the layout, for both drivers. */
export interface SessionDirectory {
  readonly path: string;
  /** Writes the files whose content changed since the last write, and wipes those no longer in the layout. */
  write(files: readonly LayoutFile[]): Promise<void>;
  /** Overwrites every file with zeros and removes it, then the directories. */
  wipe(): Promise<void>;
}

export interface SessionDirectoryOptions {
  owner: Owner;
  /**
   * The directory is someone else's (a sidecar's, often a mount point such as an emptyDir): it is
   * used as it is, its mode and owner left alone, and only emptied when wiped.
   */
  existing?: boolean;
}

export function openSessionDirectory(path: string, options: SessionDirectoryOptions): SessionDirectory {
  // SHA-256 of what was last written per file, so unchanged files are not rewritten; no
  // plaintext is kept beyond what the caller already holds.
  const written = new Map<string, string>();
  // Directories this instance created (or adopted) and handed over: later writes only check that
  // they are still directories and not links.
  const ready = new Set<string>();
  const directory = async (dir: string) => {
    if (ready.has(dir) || (dir === path && options.existing)) await assertDirectory(dir);
    else await ensureDirectory(dir, options.owner);
    ready.add(dir);
  };

  return {
    path,
    async write(files) {
      const first = !ready.has(path);
      await directory(path);
      // A crash between writing a temp file and renaming it leaves a secret behind.
      if (first) await wipeTempFiles(path);
      const wanted = new Set<string>();
      for (const file of files) {
        wanted.add(file.path);
        const digest = sha256Hex(file.content);
        if (written.get(file.path) === digest) continue;
        let parent = path;
        for (const part of file.path.split("/").slice(0, -1)) {
          parent = `${parent}/${part}`;
          await directory(parent);
        }
        await writeFileAtomic(`${path}/${file.path}`, file.content, FILE_MODE, options.owner);
        written.set(file.path, digest);
      }
      for (const stale of [...written.keys()].filter((p) => !wanted.has(p))) {
        await wipeFile(`${path}/${stale}`);
        written.delete(stale);
      }
    },
    async wipe() {
      written.clear();
      ready.clear();
      await wipeTree(path, options.existing ?? false);
    },
  };
}
