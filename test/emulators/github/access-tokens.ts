// The body of POST /app/installations/{id}/access_tokens: which repositories and permissions a new
// token gets, or GitHub's 400/422 for the request.
import { type GithubError, githubError, invalidField, messages, notPermittedKey } from "./errors.js";
import { covers, type Installation, type Repository } from "./installations.js";
import type { GithubPermissions } from "./types.js";

export interface TokenPlan {
  repositories: Repository[];
  /** Whether the request named repositories (the answer then lists them as `selected`). */
  limited: boolean;
  permissions: GithubPermissions;
}

const maxRepositories = 500;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function listOf<T>(
  body: Record<string, unknown>,
  field: string,
  item: (value: unknown) => value is T,
  expected: string,
): T[] | string {
  const value = body[field];
  if (value === undefined) return [];
  if (!Array.isArray(value)) return invalidField(`properties/${field}`, value, "an array");
  const wrong = value.find((v) => !item(v));
  return wrong === undefined ? (value as T[]) : invalidField("items", wrong, expected);
}

function checkPermissions(
  value: unknown,
  levels: ReadonlyMap<string, readonly string[]>,
): GithubPermissions | string {
  if (value === undefined) return {};
  if (!isObject(value)) return invalidField("properties/permissions", value, "an object");
  for (const [name, level] of Object.entries(value)) {
    const allowed = levels.get(name);
    if (allowed === undefined) return notPermittedKey(name);
    if (typeof level !== "string" || !allowed.includes(level)) {
      return invalidField(`properties/${name}`, level, `one of ${JSON.stringify(allowed)}`);
    }
  }
  return value as GithubPermissions;
}

export function planToken(options: {
  installation: Installation;
  reachable: Repository[];
  rawBody: Buffer;
  permissionLevels: ReadonlyMap<string, readonly string[]>;
  documentationUrl: string;
}): TokenPlan | GithubError {
  const { installation, reachable, rawBody, permissionLevels, documentationUrl } = options;
  const invalid = (message: string) => githubError(422, message, documentationUrl);

  let body: unknown = {};
  if (rawBody.length > 0) {
    try {
      body = JSON.parse(rawBody.toString("utf8"));
    } catch {
      return githubError(400, messages.problemsParsingJson, documentationUrl);
    }
  }
  if (!isObject(body)) return githubError(400, messages.problemsParsingJson, documentationUrl);

  const names = listOf(body, "repositories", (v): v is string => typeof v === "string", "a string");
  if (typeof names === "string") return invalid(names);
  const ids = listOf(body, "repository_ids", (v): v is number => Number.isInteger(v), "an integer");
  if (typeof ids === "string") return invalid(ids);
  const requested = checkPermissions(body.permissions, permissionLevels);
  if (typeof requested === "string") return invalid(requested);
  if (names.length + ids.length > maxRepositories) return invalid(messages.tooManyRepositories);

  if (!Object.entries(requested).every(([name, level]) => covers(installation.permissions[name], level))) {
    return invalid(messages.permissionsNotGranted);
  }

  const chosen = new Set<Repository>();
  for (const name of names) {
    const repository = reachable.find((r) => r.name.toLowerCase() === name.toLowerCase());
    if (repository === undefined) return invalid(messages.repositoriesNotAccessible);
    chosen.add(repository);
  }
  for (const id of ids) {
    const repository = reachable.find((r) => r.id === id);
    if (repository === undefined) return invalid(messages.repositoriesNotAccessible);
    chosen.add(repository);
  }

  const limited = chosen.size > 0;
  return {
    repositories: limited ? [...chosen] : reachable,
    limited,
    permissions: Object.keys(requested).length > 0 ? { ...requested } : { ...installation.permissions },
  };
}
