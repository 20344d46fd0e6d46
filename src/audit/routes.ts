import { Readable } from "node:stream";
import { route } from "../http/route.js";
import { auditQuerySchema } from "./event.js";
import type { AuditLog } from "./log.js";

const exportQuery = auditQuerySchema.omit({ limit: true, cursor: true, order: true });

export function auditRoutes(deps: { audit: AuditLog }) {
  return [
    route({
      method: "GET",
      url: "/v1/audit",
      summary: "Query the audit trail, newest or oldest first, with cursor pagination",
      tag: "audit",
      auth: ["auditor"],
      query: auditQuerySchema,
      responses: { 200: "A page of events and the cursor of the next page (null at the end)" },
      async handler({ query }) {
        return deps.audit.query(query);
      },
    }),
    route({
      method: "GET",
      url: "/v1/audit/export",
      summary: "Every matching audit event as NDJSON, oldest first",
      tag: "audit",
      auth: ["auditor"],
      query: exportQuery,
      responses: { 200: "application/x-ndjson, one event per line" },
      async handler({ query, reply }) {
        reply.type("application/x-ndjson");
        const events = deps.audit.export(query);
        return Readable.from(
          (async function* () {
            for await (const event of events) yield `${JSON.stringify(event)}\n`;
          })(),
        );
      },
    }),
    route({
      method: "GET",
      url: "/v1/audit/verify",
      summary: "Re-compute the audit hash chain and report the first break, if any",
      tag: "audit",
      auth: ["auditor"],
      responses: { 200: "The verification result" },
      async handler() {
        return deps.audit.verify();
      },
    }),
  ];
}
