import type { Store } from "../store/types.js";
import type { Metrics } from "./metrics.js";
import type { OpenApiCollector } from "./openapi.js";
import { route } from "./route.js";

export function healthRoutes(deps: { store: Store; metrics: Metrics; openapi: OpenApiCollector }) {
  return [
    route({
      method: "GET",
      url: "/healthz",
      summary: "Liveness: the process answers",
      tag: "operations",
      auth: "public",
      responses: { 200: "Alive" },
      async handler() {
        return { status: "ok" };
      },
    }),
    route({
      method: "GET",
      url: "/readyz",
      summary: "Readiness: the state store answers",
      tag: "operations",
      auth: "public",
      responses: { 200: "Ready", 503: "The store is unreachable" },
      async handler() {
        await deps.store.ping();
        return { status: "ready", store: deps.store.kind };
      },
    }),
    route({
      method: "GET",
      url: "/metrics",
      summary: "Prometheus metrics (labels never carry secrets or session ids)",
      tag: "operations",
      auth: "public",
      responses: { 200: "text/plain exposition format" },
      async handler({ reply }) {
        reply.type(deps.metrics.registry.contentType);
        return deps.metrics.registry.metrics();
      },
    }),
    route({
      method: "GET",
      url: "/openapi.json",
      summary: "This API's OpenAPI description",
      tag: "operations",
      auth: "public",
      responses: { 200: "OpenAPI 3.1 document" },
      async handler() {
        return deps.openapi.document();
      },
    }),
  ];
}
