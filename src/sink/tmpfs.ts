import { lstat, mkdir, readFile, realpath } from "node:fs/promises";
import { FileProblemsError } from "../config/problems.js";
import { SOCKET_NAME } from "./layout.js";

// Sink files hold live secrets; on tmpfs (or ramfs) they live in memory only, so neither a
// replaced version nor a wiped file can be read back from a disk later.

const MEMORY_FILESYSTEMS = new Set(["tmpfs", "ramfs"]);
/** sun_path holds 108 bytes with the terminating NUL. */
const MAX_SOCKET_PATH = 107;
/** The longest session id (see sessionIdPattern). */
const MAX_SESSION_ID = 48;

export interface Mount {
  mountPoint: string;
  fsType: string;
}

const unescapeOctal = (field: string) =>
  field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));

/** The mount holding `path` (a real path): the longest mount point that is a prefix of it, the last mounted on ties. */
export function mountOf(path: string, mountinfo: string): Mount | undefined {
  let best: Mount | undefined;
  for (const line of mountinfo.split("\n")) {
    const fields = line.split(" ");
    const separator = fields.indexOf("-");
    const point = fields[4];
    const fsType = fields[separator + 1];
    if (separator < 6 || point === undefined || fsType === undefined) continue;
    const mountPoint = unescapeOctal(point);
    const inside = mountPoint === "/" || path === mountPoint || path.startsWith(`${mountPoint}/`);
    if (inside && (best === undefined || mountPoint.length >= best.mountPoint.length)) {
      best = { mountPoint, fsType };
    }
  }
  return best;
}

export interface SinkRootCheck {
  allowNonTmpfs: boolean;
  /** The setting that names the path, for messages: `sink.root`, `--session-dir`. */
  field: string;
  /** How to accept a disk anyway, for messages: `sink.allowNonTmpfs: true`, `--allow-non-tmpfs`. */
  override: string;
  /** Sessions' Unix sockets will be created under the root: their paths must fit. */
  unixSockets?: boolean;
  /** Create the directory when missing (a broker's root); a sidecar's must be there already (the shared mount). */
  create: boolean;
  warn: (message: string) => void;
  /** Linux's table of mounts; injectable so the rule can be checked against any table. */
  mountinfo?: () => Promise<string>;
}

/**
 * Makes sure the sink root exists as a real directory on tmpfs (or ramfs). Anything else stops
 * the start with the path and the fix, unless explicitly allowed (development mode), which warns.
 */
export async function prepareSinkRoot(root: string, check: SinkRootCheck): Promise<void> {
  const refuse = (message: string, fix: string): never => {
    throw new FileProblemsError([{ file: root, field: check.field, message, fix }]);
  };
  try {
    const stats = await lstat(root);
    if (stats.isSymbolicLink()) {
      refuse(
        "is a symbolic link; the sink never writes through links",
        `set ${check.field} to the directory the link points to`,
      );
    }
    if (!stats.isDirectory()) refuse("is not a directory", `set ${check.field} to a directory`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    if (!check.create)
      refuse("does not exist", "mount the tmpfs the sandbox shares there (or create the directory) first");
    await mkdir(root, { recursive: true, mode: 0o700 });
  }
  if (check.unixSockets && root.length + MAX_SESSION_ID + SOCKET_NAME.length + 2 > MAX_SOCKET_PATH) {
    refuse(
      `is too long for Unix socket paths under it (at most ${MAX_SOCKET_PATH - MAX_SESSION_ID - SOCKET_NAME.length - 2} characters)`,
      `use a shorter ${check.field}, e.g. /run/latchkey-sink`,
    );
  }
  const real = await realpath(root);
  let mountinfo: string | undefined;
  try {
    mountinfo = await (check.mountinfo ?? (() => readFile("/proc/self/mountinfo", "utf8")))();
  } catch {
    mountinfo = undefined;
  }
  const mount = mountinfo === undefined ? undefined : mountOf(real, mountinfo);
  if (mount && MEMORY_FILESYSTEMS.has(mount.fsType)) return;
  const where = mount
    ? `on ${mount.fsType} (mounted at ${mount.mountPoint})`
    : "on a filesystem that cannot be determined";
  const message = `is ${where}, not tmpfs: credentials written there could reach a disk`;
  if (!check.allowNonTmpfs) {
    refuse(
      message,
      `mount a tmpfs there (mount -t tmpfs -o size=64m,mode=0700 tmpfs ${real}) or choose a directory on one; ${check.override} accepts a disk (development only)`,
    );
  }
  check.warn(`${root}: ${message}; accepted because of ${check.override} (development only)`);
}
