import type { AddressInfo } from "node:net";
import { type Broker, createBroker, loadKeyFiles } from "./broker.js";
import { type LoadedConfig, loadConfigFile, resolvePath, validateConfig } from "./config/load.js";
import { FileProblemsError, formatProblem } from "./config/problems.js";
import type { Config } from "./config/schema.js";
import { randomSecret, sha256Hex } from "./crypto/hash.js";
import { createLogger, type Logger } from "./logging.js";
import { generateSigningKey, loadSigningKeyFile } from "./providers/jwt/keys.js";
import type { ProviderKind } from "./providers/types.js";
import { type CompiledScope, loadScopes } from "./scopes/load.js";
import { prepareSinkRoot } from "./sink/tmpfs.js";
import { createStore } from "./store/index.js";
import { describeRedisUrl } from "./store/redis.js";
import type { Store } from "./store/types.js";
import { version } from "./version.js";

export interface ServeOptions {
  configPath?: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Human-facing lines (the development key, warnings); logs go to the logger. */
  notice: (line: string) => void;
  logDestination?: NodeJS.WritableStream;
}

export interface RunningServer {
  broker: Broker;
  apiUrl: string;
  metadataUrl: string;
  close(): Promise<void>;
}

function developmentConfig(env: NodeJS.ProcessEnv, notice: (line: string) => void): LoadedConfig {
  let key = env.LATCHKEY_DEV_KEY;
  if (!key) {
    key = randomSecret("lk_dev_");
    notice(`Development API key (shown once, all roles): ${key}`);
  }
  const config = validateConfig(
    {
      clients: [{ id: "dev", role: "admin", keySha256: sha256Hex(key), scopes: ["*"] }],
      // A sink root from LATCHKEY_SINK_ROOT may be on a disk here; the start warns about it.
      ...(env.LATCHKEY_SINK_ROOT ? { sink: { allowNonTmpfs: true } } : {}),
    },
    "(development defaults)",
    env,
  );
  return { config, baseDir: process.cwd(), dev: true };
}

function configuredProviders(config: Config): Set<ProviderKind> {
  const kinds = new Set<ProviderKind>(["jwt"]);
  if (config.providers.aws) kinds.add("aws");
  if (config.providers.github) kinds.add("github");
  return kinds;
}

/**
 * Scopes whose grants need a provider this broker lacks: a configuration error in production,
 * left out with a warning in development mode (so the JWT-only example works with no cloud account).
 */
function usableScopes(
  loaded: LoadedConfig,
  scopes: Map<string, CompiledScope>,
  notice: (line: string) => void,
) {
  const available = configuredProviders(loaded.config);
  const problems = [];
  const apps = loaded.config.providers.github?.apps ?? {};
  for (const scope of scopes.values()) {
    for (const grant of scope.grants.values()) {
      if (grant.provider === "github" && available.has("github") && !(grant.app in apps)) {
        problems.push({
          file: scope.file,
          field: `grants.${grant.name}.app`,
          message: `no GitHub app named ${JSON.stringify(grant.app)} is configured`,
          fix: `add it under providers.github.apps (configured: ${Object.keys(apps).join(", ") || "none"})`,
        });
      }
    }
    const missing = [...scope.grants.values()].filter((g) => !available.has(g.provider));
    if (missing.length === 0) continue;
    if (loaded.dev) {
      notice(
        `Scope ${scope.name} is not served: it needs the ${[...new Set(missing.map((g) => g.provider))].join(", ")} provider(s), which development mode does not configure.`,
      );
      scopes.delete(scope.name);
      continue;
    }
    for (const grant of missing) {
      problems.push({
        file: scope.file,
        field: `grants.${grant.name}.provider`,
        message: `the ${grant.provider} provider is not configured on this broker`,
        fix: `add providers.${grant.provider} to the broker config, or remove this grant`,
      });
    }
  }
  if (problems.length > 0) throw new FileProblemsError(problems);
  return scopes;
}

async function openStore(config: Config, logger: Logger, dev: boolean): Promise<Store> {
  if (config.store.kind === "memory") {
    logger.warn(
      dev
        ? "DEVELOPMENT MODE: in-memory store and throw-away keys; state is lost on exit. Never use this in production."
        : "In-memory store: state is lost on exit and not shared between replicas. Use store.kind: redis in production.",
    );
    return createStore(config.store);
  }
  try {
    return await createStore(config.store);
  } catch (error) {
    throw new Error(
      `cannot reach Redis at ${describeRedisUrl(config.store.url)}: ${(error as Error).cause ?? error}`,
    );
  }
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const loaded = options.configPath
    ? loadConfigFile(resolvePath(options.cwd, options.configPath), options.env)
    : developmentConfig(options.env, options.notice);
  const { config } = loaded;
  const baseDir = options.configPath ? loaded.baseDir : options.cwd;
  const logger = createLogger({
    level: config.logLevel,
    ...(options.logDestination ? { destination: options.logDestination as never } : {}),
  });
  const scopeResult = loadScopes(resolvePath(baseDir, config.scopesDir));
  if (scopeResult.problems.length > 0) throw new FileProblemsError(scopeResult.problems);
  const scopes = usableScopes(loaded, scopeResult.scopes, options.notice);
  const keys = loaded.dev
    ? {
        seal: [{ id: "dev", key: crypto.getRandomValues(new Uint8Array(32)) }],
        signing: [await generateSigningKey("ES256")],
      }
    : await loadKeyFiles(config, baseDir, (path, notBefore) =>
        loadSigningKeyFile(path, config.signing?.algorithm ?? "ES256", notBefore),
      );
  if (config.sink) {
    await prepareSinkRoot(resolvePath(baseDir, config.sink.root), {
      allowNonTmpfs: config.sink.allowNonTmpfs,
      field: "sink.root",
      override: "sink.allowNonTmpfs: true",
      unixSockets: config.sink.unixSockets,
      create: true,
      warn: (message) => logger.warn(message),
    });
  }
  const store = await openStore(config, logger, loaded.dev);
  const broker = createBroker({ config, baseDir, dev: loaded.dev, store, keys, scopes, logger, version });

  const { api, metadata } = broker.apps;
  try {
    await api.listen({ host: config.listen.api.host, port: config.listen.api.port });
    await metadata.listen({ host: config.listen.metadata.host, port: config.listen.metadata.port });
    await broker.sink?.start();
  } catch (error) {
    await broker.sink?.stop();
    await Promise.allSettled([api.close(), metadata.close(), store.close()]);
    throw error;
  }
  broker.worker.start(1000);
  const url = (address: AddressInfo | string | null) =>
    typeof address === "object" && address ? `http://${address.address}:${address.port}` : String(address);
  const apiUrl = url(api.server.address());
  const metadataUrl = url(metadata.server.address());
  logger.info(
    { apiUrl, metadataUrl, scopes: [...scopes.keys()], store: store.kind, version },
    "latchkey serving",
  );

  let closing: Promise<void> | undefined;
  return {
    broker,
    apiUrl,
    metadataUrl,
    close() {
      closing ??= (async () => {
        await broker.worker.stop();
        await broker.sink?.stop();
        await Promise.allSettled([api.close(), metadata.close()]);
        await store.close();
      })();
      return closing;
    },
  };
}

export function describeStartupError(error: unknown): string {
  if (error instanceof FileProblemsError) return error.problems.map(formatProblem).join("\n");
  return error instanceof Error ? error.message : String(error);
}
