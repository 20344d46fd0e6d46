import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { type FileProblem, FileProblemsError, parseYamlWithLines, zodProblems } from "./problems.js";
import { type Config, configSchema } from "./schema.js";

/**
 * Environment overrides, applied over the file before validation. Each names the config field
 * it sets, so an error in one reads like an error in the file.
 */
const envOverrides: { name: string; path: string[]; type: "string" | "number" | "boolean" }[] = [
  { name: "LATCHKEY_API_HOST", path: ["listen", "api", "host"], type: "string" },
  { name: "LATCHKEY_API_PORT", path: ["listen", "api", "port"], type: "number" },
  { name: "LATCHKEY_METADATA_HOST", path: ["listen", "metadata", "host"], type: "string" },
  { name: "LATCHKEY_METADATA_PORT", path: ["listen", "metadata", "port"], type: "number" },
  { name: "LATCHKEY_PUBLIC_URL", path: ["publicUrl"], type: "string" },
  { name: "LATCHKEY_METADATA_URL", path: ["metadataUrl"], type: "string" },
  { name: "LATCHKEY_SCOPES_DIR", path: ["scopesDir"], type: "string" },
  { name: "LATCHKEY_LOG_LEVEL", path: ["logLevel"], type: "string" },
  { name: "LATCHKEY_SINK_ROOT", path: ["sink", "root"], type: "string" },
  { name: "LATCHKEY_AUDIT_FILE", path: ["audit", "file"], type: "string" },
];

export const configEnvNames = [...envOverrides.map((o) => o.name), "LATCHKEY_REDIS_URL", "REDIS_URL"];

const fixes: Record<string, string> = {
  "store.url": "set store.url to redis://host:6379 (or rediss:// for TLS)",
  "store.kind": "use kind: memory (development only) or kind: redis with a url",
  "clients[].keySha256": 'store the SHA-256 of the key, e.g. `printf %s "$KEY" | sha256sum`',
  encryption: "generate a key with `latchkey keys generate --type encryption --out FILE`",
  signing: "generate a key with `latchkey keys generate --type signing --out FILE`",
  publicUrl: "use the broker's base URL as clients reach it, e.g. https://latchkey.example.com",
};

function fixFor(field: string): string | undefined {
  const generic = field.replace(/\[\d+\]/g, "[]");
  return fixes[generic] ?? fixes[generic.split(".")[0] ?? ""];
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== "object" || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1] as string] = value;
}

function applyEnv(raw: Record<string, unknown>, env: NodeJS.ProcessEnv, problems: FileProblem[]): void {
  for (const override of envOverrides) {
    const text = env[override.name];
    if (text === undefined || text === "") continue;
    let value: unknown = text;
    if (override.type === "number") {
      value = Number(text);
      if (!Number.isInteger(value)) {
        problems.push({
          file: "environment",
          field: override.name,
          message: `expected an integer, got ${JSON.stringify(text)}`,
        });
        continue;
      }
    }
    setPath(raw, override.path, value);
  }
  const redisUrl = env.LATCHKEY_REDIS_URL || env.REDIS_URL;
  if (redisUrl) {
    const current = raw.store as Record<string, unknown> | undefined;
    raw.store = { ...(current?.kind === "redis" ? current : {}), kind: "redis", url: redisUrl };
  }
}

export interface LoadedConfig {
  config: Config;
  /** Directory relative paths in the file are resolved against. */
  baseDir: string;
  dev: boolean;
}

/** Validates a config object (from a file, or built for development mode) with env overrides applied. */
export function validateConfig(
  raw: unknown,
  file: string,
  env: NodeJS.ProcessEnv,
  lineOf: (path: readonly PropertyKey[]) => number | undefined = () => undefined,
): Config {
  const problems: FileProblem[] = [];
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new FileProblemsError([{ file, field: "(top level)", message: "expected a mapping of settings" }]);
  }
  const merged = structuredClone(raw) as Record<string, unknown>;
  applyEnv(merged, env, problems);
  const result = configSchema.safeParse(merged);
  if (!result.success) problems.push(...zodProblems(file, { lineOf }, result.error.issues, fixFor));
  if (problems.length > 0) throw new FileProblemsError(problems);
  return result.data as Config;
}

export function loadConfigFile(path: string, env: NodeJS.ProcessEnv): LoadedConfig {
  let source: string;
  try {
    source = readFileSync(path, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "file not found" : String(error);
    throw new FileProblemsError([
      { file: path, field: "", message: reason, fix: "pass an existing file to --config" },
    ]);
  }
  const parsed = parseYamlWithLines(path, source);
  if (parsed.problems.length > 0) throw new FileProblemsError(parsed.problems);
  const config = validateConfig(parsed.value ?? {}, path, env, parsed.lineOf);
  const missing: FileProblem[] = [];
  if (!config.encryption)
    missing.push({
      file: path,
      field: "encryption",
      message: "is required",
      fix: fixes.encryption as string,
    });
  if (!config.signing)
    missing.push({ file: path, field: "signing", message: "is required", fix: fixes.signing as string });
  if (missing.length > 0) throw new FileProblemsError(missing);
  return { config, baseDir: dirname(resolve(path)), dev: false };
}

export function resolvePath(baseDir: string, path: string): string {
  return isAbsolute(path) ? path : resolve(baseDir, path);
}
