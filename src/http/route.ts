import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import type { AuditLog } from "../audit/log.js";
import type { Role } from "../config/schema.js";
import { LatchkeyError } from "../errors.js";
import type { Client } from "../sessions/client.js";
import { type ClientAuthenticator, credentialFromHeader } from "./client-auth.js";
import type { FailureLimiter } from "./failure-limiter.js";
import type { Metrics } from "./metrics.js";
import type { OpenApiCollector } from "./openapi.js";
import { parseOrThrow } from "./validate.js";

export interface RouteContext<P, Q, B> {
  request: FastifyRequest;
  reply: FastifyReply;
  params: P;
  query: Q;
  body: B;
  /** The authenticated client; present on every route whose `auth` names roles. */
  client: Client;
}

export interface RouteDefinition<P = unknown, Q = unknown, B = unknown> {
  method: "GET" | "POST" | "DELETE";
  url: string;
  summary: string;
  tag: string;
  /** Roles allowed to call the route; "public" routes need no key. */
  auth: "public" | readonly Role[];
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  /** Content types the body may have; JSON by default. */
  consumes?: readonly string[];
  responses: Record<number, string>;
  handler(context: RouteContext<P, Q, B>): Promise<unknown>;
}

/** Keeps the route's parameter types while erasing them for a list of routes. */
export function route<P, Q, B>(
  definition: RouteDefinition<P, Q, B>,
): RouteDefinition<unknown, unknown, unknown> {
  return definition as unknown as RouteDefinition<unknown, unknown, unknown>;
}

export interface ClientRouteDeps {
  authenticator: ClientAuthenticator;
  limiter: FailureLimiter;
  audit: AuditLog;
  metrics: Metrics;
  openapi: OpenApiCollector;
}

const anonymous: Client = { id: "anonymous", role: "auditor", scopes: new Set() };

/**
 * Registers zod-validated routes on the broker API. Authentication happens before anything
 * else is parsed; 401 means no valid key, 403 a valid key whose role may not do this.
 */
export function registerRoutes(
  app: FastifyInstance,
  definitions: readonly RouteDefinition[],
  deps: ClientRouteDeps,
): void {
  const deny = async (
    request: FastifyRequest,
    reason: "missing" | "invalid" | "forbidden",
    clientId?: string,
  ) => {
    deps.metrics.authFailures.inc({ listener: "api", reason });
    if (reason !== "forbidden") await deps.limiter.recordFailure(request.ip);
    await deps.audit.record({
      action: "auth.denied",
      outcome: "denied",
      actor: clientId ?? "anonymous",
      requestId: request.id,
      reason,
      detail: { route: request.routeOptions.url ?? "unmatched", method: request.method },
    });
  };

  const authenticate = async (request: FastifyRequest, roles: readonly Role[]): Promise<Client> => {
    await deps.limiter.check(request.ip);
    const key = credentialFromHeader(request.headers.authorization, false);
    if (key === undefined) {
      await deny(request, "missing");
      throw new LatchkeyError("UNAUTHENTICATED", "Send an API key as `Authorization: Bearer <key>`.", {
        headers: { "www-authenticate": 'Bearer realm="latchkey"' },
      });
    }
    const client = deps.authenticator.authenticate(key);
    if (!client) {
      await deny(request, "invalid");
      throw new LatchkeyError("UNAUTHENTICATED", "The API key is not valid.", {
        headers: { "www-authenticate": 'Bearer realm="latchkey", error="invalid_token"' },
      });
    }
    if (client.role !== "admin" && !roles.includes(client.role)) {
      await deny(request, "forbidden", client.id);
      throw new LatchkeyError("FORBIDDEN", `The ${client.role} role may not call this route.`);
    }
    return client;
  };

  for (const definition of definitions) {
    deps.openapi.add(definition);
    app.route({
      method: definition.method,
      url: definition.url,
      handler: async (request, reply) => {
        const client =
          definition.auth === "public" ? anonymous : await authenticate(request, definition.auth);
        const params = definition.params
          ? parseOrThrow(definition.params, request.params, "params")
          : request.params;
        const query = definition.query
          ? parseOrThrow(definition.query, request.query, "query")
          : request.query;
        const body = definition.body
          ? parseOrThrow(definition.body, request.body ?? {}, "body")
          : request.body;
        const result = await definition.handler({ request, reply, params, query, body, client });
        return reply.sent ? reply : result;
      },
    });
  }
}

export const emptyObject = z.object({}).strict();
