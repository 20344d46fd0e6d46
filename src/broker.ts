import { readFileSync } from "node:fs";
import { type Apps, createApp } from "./app.js";
import { createAuditLog } from "./audit/log.js";
import { type Clock, systemClock } from "./clock.js";
import { resolvePath } from "./config/load.js";
import type { FileProblem } from "./config/problems.js";
import { FileProblemsError } from "./config/problems.js";
import type { Config } from "./config/schema.js";
import { createSealer, type SealKey } from "./crypto/seal.js";
import { createClientAuthenticator } from "./http/client-auth.js";
import { createFailureLimiter } from "./http/failure-limiter.js";
import { createMetrics, type Metrics } from "./http/metrics.js";
import { createLeakService, type LeakService } from "./leaks/service.js";
import type { Logger } from "./logging.js";
import { listenSessionSocket } from "./metadata/app.js";
import { createTokenVerifier } from "./oidc/verifier.js";
import { createSigningKeySet, type SigningKey } from "./providers/jwt/keys.js";
import { createJwtProvider } from "./providers/jwt/provider.js";
import type { ProviderRegistry } from "./providers/registry.js";
import { createProviders } from "./providers/setup.js";
import type { CompiledScope } from "./scopes/load.js";
import { createAgentAccess } from "./sessions/agent.js";
import { type BackgroundWorker, createBackgroundWorker } from "./sessions/background.js";
import { createMinter } from "./sessions/mint.js";
import { createSessionRepository } from "./sessions/repository.js";
import { createRevoker } from "./sessions/revoker.js";
import { createSessionService, type SessionListener, type SessionService } from "./sessions/service.js";
import { createFileSink, type FileSink } from "./sink/session-sink.js";
import type { Store } from "./store/types.js";

export interface BrokerKeys {
  seal: SealKey[];
  signing: SigningKey[];
}

export interface BrokerOptions {
  config: Config;
  /** Relative paths in the config resolve against this directory. */
  baseDir: string;
  dev: boolean;
  store: Store;
  keys: BrokerKeys;
  scopes: ReadonlyMap<string, CompiledScope>;
  logger: Logger;
  clock?: Clock;
  version: string;
  listeners?: SessionListener[];
  /** Where provider credentials named in the config are read from; the process environment by default. */
  env?: NodeJS.ProcessEnv;
}

export interface Broker {
  apps: Apps;
  worker: BackgroundWorker;
  sessions: SessionService;
  leaks: LeakService;
  metrics: Metrics;
  providers: ProviderRegistry;
  issuer: string;
  metadataUrl: string;
  /** The file sink when `sink` is configured; the process starts (resumes) and stops it. */
  sink: FileSink | undefined;
}

export function issuerOf(config: Config): string {
  return (config.publicUrl ?? `http://${config.listen.api.host}:${config.listen.api.port}`).replace(
    /\/+$/,
    "",
  );
}

export function metadataUrlOf(config: Config): string {
  return (
    config.metadataUrl ?? `http://${config.listen.metadata.host}:${config.listen.metadata.port}`
  ).replace(/\/+$/, "");
}

/** The longest lifetime any JWT grant allows: how long a retired signing key stays published. */
function maxJwtTtlMs(scopes: ReadonlyMap<string, CompiledScope>): number {
  let max = 0;
  for (const scope of scopes.values()) {
    for (const grant of scope.grants.values())
      if (grant.provider === "jwt") max = Math.max(max, grant.ttlSeconds);
  }
  return Math.max(max, 60) * 1000;
}

/** The composition root: builds every service from config, store, keys and scopes. */
export function createBroker(options: BrokerOptions): Broker {
  const { config, store, logger } = options;
  const clock = options.clock ?? systemClock;
  const metrics = createMetrics();
  const issuer = issuerOf(config);
  const metadataUrl = metadataUrlOf(config);
  const audit = createAuditLog({
    store,
    clock,
    logger,
    ...(config.audit.file ? { mirrorFile: resolvePath(options.baseDir, config.audit.file) } : {}),
  });
  const signingKeys = createSigningKeySet(options.keys.signing, maxJwtTtlMs(options.scopes));
  const sealer = createSealer(options.keys.seal);
  const repo = createSessionRepository({ store, sealer });
  const providers = createProviders({
    config,
    baseDir: options.baseDir,
    clock,
    store,
    logger,
    jwt: createJwtProvider({ issuer, keys: signingKeys, store }),
    env: options.env ?? process.env,
  });
  const listeners = [...(options.listeners ?? [])];
  const minter = createMinter({ providers, clock, audit, metrics, store });
  const revoker = createRevoker({ providers, repo, store, clock, audit, metrics, logger });
  const sessions = createSessionService({
    store,
    clock,
    audit,
    logger,
    providers,
    scopes: options.scopes,
    repo,
    minter,
    revoker,
    listeners,
    maxConcurrentRevocations: config.limits.maxConcurrentRevocations,
  });
  const agents = createAgentAccess({
    repo,
    clock,
    audit,
    minter,
    revoker,
    scopes: options.scopes,
    listeners,
    logger,
  });
  const leaks = createLeakService({
    store,
    repo,
    sessions,
    audit,
    clock,
    metrics,
    logger,
    scopes: options.scopes,
    providers,
    maxLiveSessions: config.limits.scanLiveSessions,
  });
  const apps = createApp({
    leaks,
    store,
    clock,
    logger,
    metrics,
    audit,
    scopes: options.scopes,
    sessions,
    agents,
    repo,
    verifier: createTokenVerifier({ issuer, keys: signingKeys, store, repo, clock }),
    signingKeys,
    authenticator: createClientAuthenticator(config.clients),
    limiters: {
      api: createFailureLimiter(store, "api", config.limits.authFailuresPerMinute),
      metadata: createFailureLimiter(store, "metadata", config.limits.authFailuresPerMinute),
    },
    issuer,
    metadataUrl,
    bodyLimit: config.limits.bodyBytes,
    version: options.version,
  });
  // The sink reads through the agents' access and serves the metadata routes on its sockets, so
  // it joins the listeners (which the services read at each event) once both exist.
  const sink = config.sink
    ? createFileSink({
        root: resolvePath(options.baseDir, config.sink.root),
        mountPoint: config.sink.mountPoint,
        owner: { uid: config.sink.uid, gid: config.sink.gid },
        unixSockets: config.sink.unixSockets,
        metadataUrl,
        agents,
        clock,
        logger,
        serveSocket: (sessionId, path) => listenSessionSocket(apps.metadata, sessionId, path),
      })
    : undefined;
  if (sink) listeners.push(sink);
  const worker = createBackgroundWorker({ store, clock, sessions, repo, revoker, providers, logger });
  return { apps, worker, sessions, leaks, metrics, providers, issuer, metadataUrl, sink };
}

/** Reads the key files a config names. */
export async function loadKeyFiles(
  config: Config,
  baseDir: string,
  loadSigning: (path: string, notBefore: number) => Promise<SigningKey>,
): Promise<BrokerKeys> {
  const problems: FileProblem[] = [];
  const seal: SealKey[] = [];
  for (const [index, entry] of (config.encryption?.keys ?? []).entries()) {
    const path = resolvePath(baseDir, entry.file);
    try {
      const jwk = JSON.parse(readFileSync(path, "utf8")) as { kty?: string; k?: string };
      const key = Buffer.from(jwk.k ?? "", "base64url");
      if (jwk.kty !== "oct" || key.length !== 32) throw new Error("expected an oct JWK with a 256-bit k");
      seal.push({ id: entry.id, key });
    } catch (error) {
      problems.push({
        file: path,
        field: `encryption.keys[${index}]`,
        message: (error as Error).message,
        fix: "generate one with `latchkey keys generate --type encryption --out FILE`",
      });
    }
  }
  const signing: SigningKey[] = [];
  for (const [index, entry] of (config.signing?.keys ?? []).entries()) {
    const path = resolvePath(baseDir, entry.file);
    try {
      signing.push(await loadSigning(path, entry.notBefore ? Date.parse(entry.notBefore) : 0));
    } catch (error) {
      problems.push({
        file: path,
        field: `signing.keys[${index}]`,
        message: (error as Error).message,
        fix: "generate one with `latchkey keys generate --type signing --out FILE`",
      });
    }
  }
  if (problems.length > 0) throw new FileProblemsError(problems);
  return { seal, signing };
}
