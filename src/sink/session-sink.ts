import { randomBytes } from "node:crypto";
import { chmod, lchown, readdir, rename } from "node:fs/promises";
import { join } from "node:path";
import type { Clock } from "../clock.js";
import { isLatchkeyError } from "../errors.js";
import type { Logger } from "../logging.js";
import type { SessionSocket } from "../metadata/app.js";
import { type AgentAccess, needsRefresh } from "../sessions/agent.js";
import type { CredentialWithSecret } from "../sessions/mint.js";
import { grantKey, type SessionRecord, sessionIdPattern } from "../sessions/records.js";
import type { SessionListener } from "../sessions/service.js";
import { mapLimit } from "../util/concurrency.js";
import { openSessionDirectory, type SessionDirectory } from "./directory.js";
import { type Owner, readSmallFile } from "./files.js";
import {
  AGENT_TOKEN_FILE,
  DEFAULT_GIT_HOST,
  renderLayout,
  type SinkCredential,
  SOCKET_NAME,
} from "./layout.js";
import { nextCheckDelay } from "./schedule.js";

/** Longest wait between two looks at a session, so one ended by another replica is wiped by then. */
const MAX_CHECK_DELAY_MS = 30_000;
const RETRY_DELAY_MS = 5000;

export interface FileSinkDeps {
  /** An existing, checked directory (see prepareSinkRoot), absolute. */
  root: string;
  mountPoint: string;
  owner: Owner;
  unixSockets: boolean;
  /** The metadata endpoint as sandboxes reach it, for their `env` file. */
  metadataUrl: string;
  agents: AgentAccess;
  clock: Clock;
  logger: Logger;
  /** Serves the metadata routes for one session on a Unix socket at `path`. */
  serveSocket(sessionId: string, path: string): Promise<SessionSocket>;
}

/**
 * The broker's own sink: a session listener that writes each session's directory under the
 * root, keeps it fresh on the metadata endpoint's schedule, and wipes it when the session ends.
 */
export interface FileSink extends SessionListener {
  /** Resumes the sessions whose directories are under the root (after a restart); wipes only the ended ones. */
  start(): Promise<void>;
  /** Stops refreshing and closes the sockets; the files stay, since their sessions live on. */
  stop(): Promise<void>;
  /** Looks at every session now (the timers do it on their own): refreshes what is due, wipes what ended. */
  refreshDue(): Promise<void>;
}

interface Tracked {
  id: string;
  /**
   * Kept from the open, or read back from the session's own `agent-token` file after a restart:
   * the sink authenticates as the agent to learn whether the session still lives.
   */
  token: string;
  session: SessionRecord | undefined;
  held: Map<string, CredentialWithSecret>;
  directory: SessionDirectory;
  socket: SessionSocket | undefined;
  timer: NodeJS.Timeout | undefined;
  /** Writes (and the socket's creation) run one after another, so an older state never lands last. */
  writes: Promise<void>;
  checking: Promise<void> | undefined;
  ended: boolean;
}

/** The secret as the layout needs it; the provider's own field names stay here. */
export function sinkCredentialOf({ record, secret }: CredentialWithSecret): SinkCredential {
  const field = (name: string) => {
    const value = secret[name];
    if (value === undefined) throw new TypeError(`a ${record.provider} secret has no ${name} field`);
    return value;
  };
  const common = { grant: record.grant, scope: record.scope, expiresAt: record.expiresAt };
  switch (record.provider) {
    case "aws":
      return {
        ...common,
        provider: "aws",
        accessKeyId: field("AccessKeyId"),
        secretAccessKey: field("SecretAccessKey"),
        sessionToken: field("SessionToken"),
      };
    case "github":
      return {
        ...common,
        provider: "github",
        token: field("token"),
        gitHost: typeof record.reference.gitHost === "string" ? record.reference.gitHost : DEFAULT_GIT_HOST,
      };
    case "jwt":
      return { ...common, provider: "jwt", token: field("token") };
  }
}

const isUnauthenticated = (error: unknown) => isLatchkeyError(error) && error.code === "UNAUTHENTICATED";

export function createFileSink(deps: FileSinkDeps): FileSink {
  const { agents, clock, logger } = deps;
  const tracked = new Map<string, Tracked>();
  let stopped = false;

  const directoryOf = (sessionId: string) =>
    openSessionDirectory(join(deps.root, sessionId), { owner: deps.owner });

  const track = (id: string, token: string): Tracked => {
    const entry: Tracked = {
      id,
      token,
      session: undefined,
      held: new Map(),
      directory: directoryOf(id),
      socket: undefined,
      timer: undefined,
      writes: Promise.resolve(),
      checking: undefined,
      ended: false,
    };
    tracked.set(id, entry);
    return entry;
  };

  const remember = (entry: Tracked, minted: CredentialWithSecret) => {
    const key = grantKey(minted.record.provider, minted.record.grant);
    const held = entry.held.get(key);
    if (!held || minted.record.issuedAt >= held.record.issuedAt) entry.held.set(key, minted);
  };

  // The socket is bound where only the broker can reach (the root), given its mode and owner
  // there, and then moved into the session directory, so no path the sandbox controls is ever
  // chmod-ed or chown-ed.
  const openSocket = async (entry: Tracked): Promise<SessionSocket> => {
    const staging = join(deps.root, `.${randomBytes(6).toString("hex")}.sock`);
    const socket = await deps.serveSocket(entry.id, staging);
    try {
      await chmod(staging, 0o600);
      if (deps.owner.uid !== undefined || deps.owner.gid !== undefined)
        await lchown(staging, deps.owner.uid ?? -1, deps.owner.gid ?? -1);
      await rename(staging, join(entry.directory.path, SOCKET_NAME));
    } catch (error) {
      await socket.close();
      throw error;
    }
    return socket;
  };

  /** Writes the current state, once every grant of the session has a credential. */
  const flush = (entry: Tracked): Promise<void> => {
    const run = entry.writes.then(async () => {
      const session = entry.session;
      if (entry.ended || !session) return;
      const credentials = Object.keys(session.current).map((key) => entry.held.get(key));
      if (credentials.some((c) => c === undefined)) return;
      const files = renderLayout(
        {
          sessionId: session.id,
          expiresAt: session.expiresAt,
          agentToken: entry.token,
          credentials: (credentials as CredentialWithSecret[]).map(sinkCredentialOf),
        },
        { mountPoint: deps.mountPoint, metadataUrl: deps.metadataUrl, socket: deps.unixSockets },
      );
      await entry.directory.write(files);
      if (deps.unixSockets && !entry.socket && !stopped) entry.socket = await openSocket(entry);
    });
    entry.writes = run.catch(() => undefined);
    return run;
  };

  const finish = async (entry: Tracked) => {
    entry.ended = true;
    clearTimeout(entry.timer);
    if (tracked.get(entry.id) === entry) tracked.delete(entry.id);
    await entry.writes;
    await entry.socket?.close();
    entry.socket = undefined;
    await entry.directory.wipe();
  };

  const check = async (entry: Tracked) => {
    let session: SessionRecord;
    try {
      session = await agents.authenticate(entry.token);
    } catch (error) {
      if (!isUnauthenticated(error)) throw error;
      logger.info({ sessionId: entry.id }, "sink: the session is over; wiping its files");
      await finish(entry);
      return;
    }
    entry.session = session;
    for (const [key, id] of Object.entries(session.current)) {
      const held = entry.held.get(key);
      if (held && held.record.id === id && !needsRefresh(held.record, clock.now())) continue;
      const slash = key.indexOf("/");
      remember(entry, await agents.read(session, key.slice(0, slash), key.slice(slash + 1)));
    }
    await flush(entry);
  };

  const schedule = (entry: Tracked, delayMs?: number) => {
    clearTimeout(entry.timer);
    if (entry.ended || stopped) return;
    const delay =
      delayMs ??
      nextCheckDelay(
        [...entry.held.values()].map((c) => c.record),
        entry.session?.expiresAt,
        clock.now(),
        MAX_CHECK_DELAY_MS,
      );
    entry.timer = setTimeout(() => void runCheck(entry), delay);
    entry.timer.unref();
  };

  const runCheck = (entry: Tracked): Promise<void> => {
    entry.checking ??= (async () => {
      let retry = false;
      try {
        await check(entry);
      } catch (error) {
        retry = true;
        logger.warn(
          { err: error, sessionId: entry.id },
          "sink could not refresh the session's files; retrying",
        );
      } finally {
        entry.checking = undefined;
      }
      schedule(entry, retry ? RETRY_DELAY_MS : undefined);
    })();
    return entry.checking;
  };

  const resume = async (name: string) => {
    let token: string;
    try {
      token = (await readSmallFile(join(deps.root, name, AGENT_TOKEN_FILE), 1024)).trim();
    } catch (error) {
      logger.warn(
        { sessionId: name, code: (error as NodeJS.ErrnoException).code },
        "sink: a session directory without a readable agent-token file is left as it is",
      );
      return;
    }
    await runCheck(track(name, token));
  };

  return {
    async start() {
      stopped = false;
      const entries = await readdir(deps.root, { withFileTypes: true });
      const sessions = entries.filter(
        (e) => sessionIdPattern.test(e.name) && e.isDirectory() && !tracked.has(e.name),
      );
      for (const link of entries.filter((e) => sessionIdPattern.test(e.name) && e.isSymbolicLink())) {
        logger.warn(
          { sessionId: link.name },
          "sink: a session path under the root is a symbolic link; ignored",
        );
      }
      await mapLimit(sessions, 8, (entry) => resume(entry.name));
    },

    async stop() {
      stopped = true;
      const entries = [...tracked.values()];
      tracked.clear();
      for (const entry of entries) clearTimeout(entry.timer);
      await Promise.all(
        entries.map(async (entry) => {
          await entry.checking;
          await entry.writes;
          await entry.socket?.close();
          entry.socket = undefined;
        }),
      );
    },

    async refreshDue() {
      await Promise.all([...tracked.values()].map(runCheck));
    },

    async opened(session, agentToken, credentials) {
      const entry = track(session.id, agentToken);
      entry.session = session;
      for (const credential of credentials) remember(entry, credential);
      try {
        await flush(entry);
      } finally {
        schedule(entry);
      }
    },

    async refreshed(session, credential) {
      const entry = tracked.get(session.id);
      if (!entry || entry.ended) return;
      entry.session = session;
      remember(entry, credential);
      await flush(entry);
    },

    async ended(session) {
      const entry = tracked.get(session.id);
      // A directory this sink does not track (written before a restart, or by another replica
      // sharing the root) is wiped all the same.
      await (entry ? finish(entry) : directoryOf(session.id).wipe());
    },
  };
}
