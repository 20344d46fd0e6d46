// The extracted OpenAPI file, read by the emulator (templates, permission names, documentation
// URLs) and by the tests (response validation).
import { readFileSync } from "node:fs";
import type { OperationId } from "./operations.js";

export interface ExtractedSchemas {
  source: { package: string; version: string };
  operations: Record<
    OperationId,
    { documentationUrl: string; responses: Record<string, unknown>; requestBody?: unknown }
  >;
  components: { schemas: Record<string, unknown> };
  templates: { repository: Record<string, unknown>; "full-repository": Record<string, unknown> };
}

export function loadExtractedSchemas(): ExtractedSchemas {
  return JSON.parse(readFileSync(new URL("./github-schemas.generated.json", import.meta.url), "utf8"));
}

/** Each permission name GitHub knows, with the levels it admits (`app-permissions`). */
export function permissionLevels(schemas: ExtractedSchemas): Map<string, readonly string[]> {
  const appPermissions = schemas.components.schemas["app-permissions"] as {
    properties: Record<string, { enum: string[] }>;
  };
  return new Map(Object.entries(appPermissions.properties).map(([name, p]) => [name, p.enum]));
}
