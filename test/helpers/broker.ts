import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { stringify } from "yaml";
import { type Broker, createBroker } from "../../src/broker.js";
import type { Clock } from "../../src/clock.js";
import { validateConfig } from "../../src/config/load.js";
import type { ConfigInput } from "../../src/config/schema.js";
import { sha256Hex } from "../../src/crypto/hash.js";
import { createLogger } from "../../src/logging.js";
import { generateSigningKey } from "../../src/providers/jwt/keys.js";
import { type CompiledScope, parseScopeFile } from "../../src/scopes/load.js";
import type { SessionListener } from "../../src/sessions/service.js";
import type { Store } from "../../src/store/types.js";

/** Scopes most tests use: JWT-only, so they need no emulator. */
export const jwtScopes = [
  {
    name: "build",
    description: "Build tasks calling the internal API",
    maxTtlSeconds: 3600,
    grants: [
      {
        name: "api",
        provider: "jwt",
        audience: ["https://api.test.example", "https://other.test.example"],
        ttlSeconds: 600,
        claims: { role: "builder", team: "platform" },
      },
    ],
  },
  {
    name: "deploy",
    description: "Deploy tasks",
    maxTtlSeconds: 1800,
    clients: ["orch-a"],
    grants: [
      { name: "deploy-api", provider: "jwt", audience: "https://deploy.test.example", ttlSeconds: 300 },
    ],
  },
];

export function compileScopes(definitions: readonly unknown[]): Map<string, CompiledScope> {
  const scopes = new Map<string, CompiledScope>();
  for (const definition of definitions) {
    const name = (definition as { name: string }).name;
    const { scope, problems } = parseScopeFile(`${name}.yaml`, stringify(definition));
    if (!scope) throw new Error(`test scope ${name} is invalid: ${JSON.stringify(problems)}`);
    scopes.set(scope.name, scope);
  }
  return scopes;
}

export interface TestKeys {
  /** orchestrator allowed every scope */
  orchA: string;
  /** orchestrator allowed only `build` */
  orchB: string;
  auditor: string;
  admin: string;
}

export interface TestBroker extends Broker {
  keys: TestKeys;
  /** Everything the broker logged, for asserting that no secret was ever written. */
  logs: string[];
  store: Store;
  close(): Promise<void>;
}

export interface TestBrokerOptions {
  store: Store;
  clock?: Clock;
  scopes?: readonly unknown[];
  config?: Partial<ConfigInput>;
  listeners?: SessionListener[];
  env?: NodeJS.ProcessEnv;
  signingAlgorithm?: "ES256" | "RS256";
}

export async function createTestBroker(options: TestBrokerOptions): Promise<TestBroker> {
  const keys: TestKeys = {
    orchA: `lk_test_${randomBytes(16).toString("hex")}`,
    orchB: `lk_test_${randomBytes(16).toString("hex")}`,
    auditor: `lk_test_${randomBytes(16).toString("hex")}`,
    admin: `lk_test_${randomBytes(16).toString("hex")}`,
  };
  const config = validateConfig(
    {
      clients: [
        { id: "orch-a", role: "orchestrator", keySha256: sha256Hex(keys.orchA), scopes: ["*"] },
        { id: "orch-b", role: "orchestrator", keySha256: sha256Hex(keys.orchB), scopes: ["build", "deploy"] },
        { id: "auditor", role: "auditor", keySha256: sha256Hex(keys.auditor) },
        { id: "admin", role: "admin", keySha256: sha256Hex(keys.admin), scopes: ["*"] },
      ],
      publicUrl: "http://127.0.0.1:8080",
      logLevel: "debug",
      ...options.config,
    },
    "(test)",
    {},
  );
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const broker = createBroker({
    config,
    baseDir: process.cwd(),
    dev: false,
    store: options.store,
    keys: {
      seal: [{ id: "test", key: randomBytes(32) }],
      signing: [await generateSigningKey(options.signingAlgorithm ?? "ES256")],
    },
    scopes: compileScopes(options.scopes ?? jwtScopes),
    logger: createLogger({ level: config.logLevel, destination: destination as never }),
    ...(options.clock ? { clock: options.clock } : {}),
    version: "test",
    ...(options.listeners ? { listeners: options.listeners } : {}),
    env: options.env ?? {},
  });
  return {
    ...broker,
    keys,
    logs,
    store: options.store,
    async close() {
      await broker.worker.stop();
      await Promise.all([broker.apps.api.close(), broker.apps.metadata.close()]);
    },
  };
}

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
