import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { ClientRouteDeps } from "../http/route.js";
import { registerRoutes, route } from "../http/route.js";
import { type ScanSource, summarize } from "../scanner/index.js";
import { sessionIdPattern } from "../sessions/records.js";
import type { LeakService } from "./service.js";

const sessionParams = z
  .object({ id: z.string().regex(sessionIdPattern, "is not a valid session id") })
  .strict();

/** Most findings one answer lists; the summary still counts them all. */
const MAX_FINDINGS = 1000;

/**
 * The scan route reads its body as a raw stream of any content type and any size, so it lives in
 * its own encapsulated context without the JSON and form parsers the other routes use.
 */
export function registerLeakRoutes(
  api: FastifyInstance,
  deps: { leaks: LeakService } & ClientRouteDeps,
): void {
  api.register(async (scoped) => {
    scoped.removeAllContentTypeParsers();
    scoped.addContentTypeParser("*", (_request, payload, done) => done(null, payload));
    registerRoutes(
      scoped,
      [
        route({
          method: "POST",
          url: "/v1/sessions/:id/scan",
          summary:
            "Scan sandbox output (streamed, any size) for leaked secrets; leaked live credentials are revoked at once",
          tag: "leaks",
          auth: ["orchestrator"],
          params: sessionParams,
          consumes: ["application/octet-stream", "text/plain"],
          responses: {
            200: "Findings (never a whole secret) and the credentials revoked",
            404: "No such session visible to this client",
          },
          async handler({ params, client, request }) {
            const body = request.body as ScanSource | undefined;
            const result = await deps.leaks.scan(client, params.id, body ?? "", request.id);
            return {
              sessionId: params.id,
              findings: result.findings.slice(0, MAX_FINDINGS),
              truncated: result.findings.length > MAX_FINDINGS,
              revoked: result.revoked,
              summary: summarize(result.findings, {
                files: 1,
                skipped: 0,
                bytes: result.bytes,
                durationMs: result.durationMs,
              }),
            };
          },
        }),
        route({
          method: "GET",
          url: "/v1/sessions/:id/matchers",
          summary: "How `latchkey scan --session` recognises a session's secrets: hashes, never the secrets",
          tag: "leaks",
          auth: ["orchestrator", "auditor"],
          params: sessionParams,
          responses: { 200: "The matchers", 404: "No such session visible to this client" },
          async handler({ params, client, reply }) {
            reply.header("cache-control", "no-store");
            return { matchers: await deps.leaks.matchers(client, params.id) };
          },
        }),
      ],
      deps,
    );
  });
}
