// Regenerates github-schemas.generated.json from GitHub's published OpenAPI description.
// Run: node --import tsx test/emulators/github/openapi/extract.ts
//
// The package is 400 MB unpacked, so it is never a dependency: this script packs the one pinned
// version into a temp dir, reads only generated/api.github.com.json, and keeps just the schemas the
// emulator's operations reach, rewritten from OpenAPI 3.0 into plain JSON Schema for Ajv.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { servedOperations } from "./operations.js";

const packageName = "@octokit/openapi";
const packageVersion = "23.0.2";
const specFile = "generated/api.github.com.json";
const outFile = fileURLToPath(new URL("./github-schemas.generated.json", import.meta.url));

// Examples used as templates for objects with 70+ required fields; the emulator overrides every
// field that identifies the repository.
const templates = {
  repository: (examples: Json) => at(examples, ["installation-token", "value", "repositories", 0]),
  "full-repository": (examples: Json) => at(examples, ["full-repository-default-response", "value"]),
} as const;

type Json = unknown;
type JsonObject = Record<string, Json>;

function isObject(value: Json): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function at(value: Json, path: (string | number)[]): Json {
  let node = value;
  for (const key of path) {
    if (Array.isArray(node) && typeof key === "number") node = node[key];
    else if (isObject(node) && typeof key === "string") node = node[key];
    else throw new Error(`${path.join("/")} is missing from ${specFile}`);
  }
  if (node === undefined) throw new Error(`${path.join("/")} is missing from ${specFile}`);
  return node;
}

function download(): JsonObject {
  const dir = mkdtempSync(join(tmpdir(), "github-openapi-"));
  try {
    const tarball = execFileSync("npm", ["pack", `${packageName}@${packageVersion}`, "--silent"], {
      cwd: dir,
      encoding: "utf8",
    }).trim();
    execFileSync("tar", ["-xzf", tarball, `package/${specFile}`], { cwd: dir });
    const spec: Json = JSON.parse(readFileSync(join(dir, "package", specFile), "utf8"));
    if (!isObject(spec)) throw new Error(`${specFile} is not a JSON object`);
    return spec;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const schemaMaps = new Set(["properties", "patternProperties"]);
const subschemas = new Set(["items", "additionalProperties", "not"]);
const subschemaLists = new Set(["allOf", "anyOf", "oneOf"]);
const annotations = new Set(["description", "example", "examples", "externalDocs", "xml", "title"]);

/**
 * OpenAPI 3.0 `nullable: true` is not JSON Schema: Ajv rejects it next to `anyOf` and ignores it
 * elsewhere. Rewritten as a `"null"` type (and `null` in an `enum`) or an `anyOf` with null.
 * Walks the schema structure rather than every key, so a property named "description" stays.
 */
function toJsonSchema(schema: Json): Json {
  if (!isObject(schema)) return schema;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "nullable" || annotations.has(key) || key.startsWith("x-")) continue;
    if (schemaMaps.has(key) && isObject(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, toJsonSchema(sub)]));
    } else if (subschemas.has(key)) {
      out[key] = toJsonSchema(value);
    } else if (subschemaLists.has(key) && Array.isArray(value)) {
      out[key] = value.map(toJsonSchema);
    } else {
      out[key] = value;
    }
  }
  if (schema.nullable !== true) return out;
  if (typeof out.type === "string") {
    out.type = [out.type, "null"];
    if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
    return out;
  }
  return { anyOf: [out, { type: "null" }] };
}

function collectRefs(node: Json, found: Set<string>): void {
  if (Array.isArray(node)) {
    for (const item of node) collectRefs(item, found);
  } else if (isObject(node)) {
    for (const [key, value] of Object.entries(node)) {
      if (key === "$ref" && typeof value === "string") found.add(value);
      else collectRefs(value, found);
    }
  }
}

const schemaRef = "#/components/schemas/";

function extract(spec: JsonObject): JsonObject {
  const components = at(spec, ["components"]);
  const schemas = at(components, ["schemas"]);
  const responses = at(components, ["responses"]);

  // A response may point at components/responses; only its JSON body schema is kept.
  const responseSchema = (response: Json): Json => {
    const ref = isObject(response) ? response.$ref : undefined;
    const resolved =
      typeof ref === "string" ? at(responses, [ref.replace("#/components/responses/", "")]) : response;
    return isObject(resolved) && isObject(resolved.content)
      ? at(resolved.content, ["application/json", "schema"])
      : null;
  };

  const operations: JsonObject = {};
  for (const { operationId, method, path } of servedOperations) {
    const operation = at(spec, ["paths", path, method.toLowerCase()]);
    if (at(operation, ["operationId"]) !== operationId) {
      throw new Error(`${method} ${path} is ${String(at(operation, ["operationId"]))}, not ${operationId}`);
    }
    const answers = at(operation, ["responses"]);
    if (!isObject(answers)) throw new Error(`${operationId} has no responses`);
    const requestBody = isObject(operation) ? operation.requestBody : undefined;
    operations[operationId] = {
      method,
      path,
      documentationUrl: at(operation, ["externalDocs", "url"]),
      ...(requestBody === undefined
        ? {}
        : { requestBody: toJsonSchema(at(requestBody, ["content", "application/json", "schema"])) }),
      responses: Object.fromEntries(
        Object.entries(answers).map(([status, answer]) => [status, toJsonSchema(responseSchema(answer))]),
      ),
    };
  }

  // Error bodies the emulator answers with on any operation, whether or not the spec lists them.
  const needed = new Set([`${schemaRef}basic-error`, `${schemaRef}validation-error`]);
  collectRefs(operations, needed);
  const kept: JsonObject = {};
  const pending = [...needed];
  for (let ref = pending.pop(); ref !== undefined; ref = pending.pop()) {
    if (!ref.startsWith(schemaRef)) throw new Error(`unexpected reference ${ref}`);
    const name = ref.slice(schemaRef.length);
    if (name in kept) continue;
    const schema = at(schemas, [name]);
    kept[name] = toJsonSchema(schema);
    const inner = new Set<string>();
    collectRefs(schema, inner);
    pending.push(...inner);
  }

  const examples = at(components, ["examples"]);
  return {
    source: {
      package: packageName,
      version: packageVersion,
      file: specFile,
      openapi: at(spec, ["openapi"]),
    },
    operations,
    components: { schemas: Object.fromEntries(Object.entries(kept).sort(([a], [b]) => a.localeCompare(b))) },
    templates: Object.fromEntries(Object.entries(templates).map(([name, pick]) => [name, pick(examples)])),
  };
}

const text = `${JSON.stringify(extract(download()), null, 1)}\n`;
// The repository's checks refuse committed token-shaped strings and keys; a spec example carrying
// one must not slip into the generated file.
if (/gh[pousr]_[A-Za-z0-9]{36}|PRIVATE KEY/.test(text)) {
  throw new Error("the extracted schemas contain a token-shaped string or a private key");
}
writeFileSync(outFile, text);
process.stdout.write(`wrote ${outFile} (${text.length} bytes)\n`);
