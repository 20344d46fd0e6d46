import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type FileProblem, parseYamlWithLines, zodProblems } from "../config/problems.js";
import type { Grant } from "../providers/grants.js";
import { type ScopeFile, scopeFileSchema } from "./schema.js";

/** A scope after validation: immutable, looked up by name, its grants by name. */
export interface CompiledScope {
  readonly name: string;
  readonly description: string;
  readonly maxTtlSeconds: number;
  readonly clients: ReadonlySet<string> | undefined;
  readonly grants: ReadonlyMap<string, Grant>;
  readonly file: string;
}

export interface ScopeLoadResult {
  scopes: Map<string, CompiledScope>;
  problems: FileProblem[];
}

const fixes: Record<string, string> = {
  provider: "use provider: aws, github or jwt",
  maxTtlSeconds: "use a whole number of seconds between 60 and 86400",
};

function compile(file: ScopeFile, path: string): CompiledScope {
  return Object.freeze({
    name: file.name,
    description: file.description,
    maxTtlSeconds: file.maxTtlSeconds,
    clients: file.clients ? new Set(file.clients) : undefined,
    grants: new Map(file.grants.map((grant) => [grant.name, Object.freeze(grant)])),
    file: path,
  });
}

/** Parses one scope file strictly; problems carry the file, line and field. */
export function parseScopeFile(
  path: string,
  source: string,
): { scope?: CompiledScope; problems: FileProblem[] } {
  const parsed = parseYamlWithLines(path, source);
  if (parsed.problems.length > 0) return { problems: parsed.problems };
  const result = scopeFileSchema.safeParse(parsed.value);
  if (!result.success) {
    const problems = zodProblems(
      path,
      parsed,
      result.error.issues,
      (field) => fixes[field.split(".").pop() ?? ""],
    );
    return { problems: problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0)) };
  }
  const problems: FileProblem[] = [];
  const seen = new Set<string>();
  result.data.grants.forEach((grant, index) => {
    if (seen.has(grant.name)) {
      const line = parsed.lineOf(["grants", index, "name"]);
      problems.push({
        file: path,
        field: `grants[${index}].name`,
        message: `grant name ${JSON.stringify(grant.name)} is used twice in this scope`,
        fix: "give each grant of a scope its own name",
        ...(line === undefined ? {} : { line }),
      });
    }
    seen.add(grant.name);
  });
  return problems.length > 0 ? { problems } : { scope: compile(result.data, path), problems };
}

/** Loads every `*.yaml`/`*.yml` file of a directory; reports all problems, not just the first. */
export function loadScopes(dir: string): ScopeLoadResult {
  const scopes = new Map<string, CompiledScope>();
  const problems: FileProblem[] = [];
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((name) => /\.ya?ml$/.test(name))
      .sort();
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "directory not found" : String(error);
    return {
      scopes,
      problems: [
        { file: dir, field: "", message: reason, fix: "point scopesDir at the directory of scope files" },
      ],
    };
  }
  for (const name of names) {
    const path = join(dir, name);
    const { scope, problems: found } = parseScopeFile(path, readFileSync(path, "utf8"));
    problems.push(...found);
    if (!scope) continue;
    const other = scopes.get(scope.name);
    if (other) {
      problems.push({
        file: path,
        field: "name",
        message: `scope name ${JSON.stringify(scope.name)} is already used by ${other.file}`,
        fix: "scope names must be unique across files",
        line: 1,
      });
      continue;
    }
    scopes.set(scope.name, scope);
  }
  if (names.length === 0) {
    problems.push({
      file: dir,
      field: "",
      message: "no scope files (*.yaml) found",
      fix: "add at least one scope file",
    });
  }
  return { scopes, problems };
}
