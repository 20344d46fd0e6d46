import { z } from "zod";
import type { RouteDefinition } from "./route.js";

export interface OpenApiCollector {
  add(route: RouteDefinition): void;
  document(): Record<string, unknown>;
}

const toSchema = (schema: z.ZodType) => z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });

/** Builds the OpenAPI 3.1 description from the same zod schemas that validate the requests. */
export function createOpenApiCollector(info: { title: string; version: string }): OpenApiCollector {
  const paths: Record<string, Record<string, unknown>> = {};
  return {
    add(route) {
      const path = route.url.replace(/:([A-Za-z]+)/g, "{$1}");
      const parameters: unknown[] = [];
      for (const [where, schema] of [
        ["path", route.params],
        ["query", route.query],
      ] as const) {
        if (!schema) continue;
        const json = toSchema(schema) as { properties?: Record<string, unknown>; required?: string[] };
        for (const [name, property] of Object.entries(json.properties ?? {})) {
          parameters.push({
            name,
            in: where,
            required: where === "path" || (json.required ?? []).includes(name),
            schema: property,
          });
        }
      }
      const operation: Record<string, unknown> = {
        summary: route.summary,
        tags: [route.tag],
        ...(parameters.length > 0 ? { parameters } : {}),
        ...(route.body
          ? {
              requestBody: {
                required: true,
                content: Object.fromEntries(
                  (route.consumes ?? ["application/json"]).map((type) => [
                    type,
                    { schema: toSchema(route.body as z.ZodType) },
                  ]),
                ),
              },
            }
          : {}),
        ...(route.auth === "public" ? { security: [] } : {}),
        responses: Object.fromEntries(
          Object.entries(route.responses).map(([status, description]) => [
            status,
            Number(status) >= 400
              ? {
                  description,
                  content: {
                    "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } },
                  },
                }
              : { description },
          ]),
        ),
      };
      paths[path] = { ...(paths[path] ?? {}), [route.method.toLowerCase()]: operation };
    },
    document() {
      return {
        openapi: "3.1.0",
        info,
        paths,
        components: {
          securitySchemes: { apiKey: { type: "http", scheme: "bearer" } },
          schemas: {
            Problem: {
              type: "object",
              required: ["type", "title", "status", "code", "detail", "requestId"],
              properties: {
                type: { type: "string" },
                title: { type: "string" },
                status: { type: "integer" },
                code: { type: "string" },
                detail: { type: "string" },
                requestId: { type: "string" },
              },
            },
          },
        },
        security: [{ apiKey: [] }],
      };
    },
  };
}
