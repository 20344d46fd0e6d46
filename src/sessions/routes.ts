import { z } from "zod";
import { route } from "../http/route.js";
import { sessionIdPattern } from "./records.js";
import type { SessionService } from "./service.js";
import { credentialView, mintedView, sessionView } from "./views.js";

const sessionParams = z
  .object({ id: z.string().regex(sessionIdPattern, "is not a valid session id") })
  .strict();

const openBody = z
  .object({
    sessionId: z
      .string()
      .regex(
        sessionIdPattern,
        "must match ^[A-Za-z0-9][A-Za-z0-9_.-]{1,47}$ (it becomes part of paths and AWS names)",
      ),
    scopes: z.array(z.string().min(1).max(64)).min(1).max(10),
    ttlSeconds: z.number().int().min(60).max(86_400).optional(),
    labels: z
      .record(
        z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "label keys are 1-64 of A-Z a-z 0-9 _ . -"),
        z.string().max(256),
      )
      .refine((labels) => Object.keys(labels).length <= 16, { message: "at most 16 labels" })
      .optional(),
  })
  .strict();

const issueBody = z
  .object({
    scope: z.string().min(1).max(64),
    grant: z.string().min(1).max(64),
    narrow: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

const orchestrators = ["orchestrator"] as const;

export function sessionRoutes(deps: { sessions: SessionService; metadataUrl: string }) {
  const { sessions } = deps;
  return [
    route({
      method: "POST",
      url: "/v1/sessions",
      summary: "Open a session for a sandbox and mint the credentials of its scopes",
      tag: "sessions",
      auth: orchestrators,
      body: openBody,
      responses: {
        201: "The session, its agent token (shown only here) and its credentials",
        403: "Scope not allowed",
        409: "The session id is taken",
        502: "A provider refused",
      },
      async handler({ body, client, request, reply }) {
        const opened = await sessions.open(client, body, request.id);
        reply.code(201).header("cache-control", "no-store");
        return {
          session: sessionView(opened.session),
          agentToken: opened.agentToken,
          metadataUrl: deps.metadataUrl,
          credentials: opened.credentials.map(mintedView),
        };
      },
    }),
    route({
      method: "POST",
      url: "/v1/sessions/:id/credentials",
      summary: "Mint one more credential for a task, narrowed but never widened",
      tag: "sessions",
      auth: orchestrators,
      params: sessionParams,
      body: issueBody,
      responses: {
        201: "The credential and its secret",
        403: "The request would widen the grant",
        404: "No such session",
        409: "The session is not active",
      },
      async handler({ params, body, client, request, reply }) {
        const minted = await sessions.issue(client, params.id, body, request.id);
        reply.code(201).header("cache-control", "no-store");
        return mintedView(minted);
      },
    }),
    route({
      method: "GET",
      url: "/v1/sessions/:id",
      summary: "A session's state and credential metadata (never secrets)",
      tag: "sessions",
      auth: orchestrators,
      params: sessionParams,
      responses: { 200: "The session", 404: "No such session visible to this client" },
      async handler({ params, client }) {
        const { session, credentials } = await sessions.get(client, params.id);
        return { session: sessionView(session), credentials: credentials.map(credentialView) };
      },
    }),
    route({
      method: "DELETE",
      url: "/v1/sessions/:id",
      summary: "End a session: revoke every credential with its provider",
      tag: "sessions",
      auth: orchestrators,
      params: sessionParams,
      responses: {
        200: "What was revoked and what is still pending",
        404: "No such session visible to this client",
      },
      async handler({ params, client, request }) {
        const ended = await sessions.end(client, params.id, request.id);
        const credentials = ended.credentials.map(credentialView);
        return {
          session: sessionView(ended.session),
          revoked: credentials.filter((c) => c.state === "revoked" || c.state === "expired").length,
          pending: credentials.filter((c) => c.state === "revocation_pending").length,
          credentials,
        };
      },
    }),
  ];
}
