import { createServer, type IncomingMessage } from "node:http";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from "fastify";
import type { AuditLog } from "../audit/log.js";
import { LatchkeyError } from "../errors.js";
import { credentialFromHeader } from "../http/client-auth.js";
import type { FailureLimiter } from "../http/failure-limiter.js";
import { instrument, requestIds } from "../http/instrument.js";
import type { Metrics } from "../http/metrics.js";
import { installProblemHandlers } from "../http/problem.js";
import type { Logger } from "../logging.js";
import { providerKinds } from "../providers/types.js";
import type { AgentAccess } from "../sessions/agent.js";
import type { SessionRecord } from "../sessions/records.js";
import { agentFormats } from "./formats.js";

export interface MetadataAppDeps {
  agents: AgentAccess;
  audit: AuditLog;
  limiter: FailureLimiter;
  metrics: Metrics;
  logger: Logger;
}

declare module "fastify" {
  interface FastifyRequest {
    agentSession?: SessionRecord;
  }
}

/** Requests that arrived on a session's own Unix socket, with the id of that session. */
const socketSessions = new WeakMap<IncomingMessage, string>();

export interface SessionSocket {
  close(): Promise<void>;
}

/**
 * Serves the metadata routes on a Unix socket that belongs to one session, for sandboxes without
 * a network. The agent token is still required there, and it must be that session's: a token
 * carried to another session's socket (or a socket mounted into the wrong sandbox) reaches nothing.
 */
export async function listenSessionSocket(
  app: FastifyInstance,
  sessionId: string,
  path: string,
): Promise<SessionSocket> {
  await app.ready();
  const server = createServer((request, response) => {
    socketSessions.set(request, sessionId);
    app.routing(request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * The agent-facing listener. The session is derived from the agent token alone: no path or
 * parameter can name another session. Proxied requests are refused, since a request that went
 * through a proxy did not come from the agent's own process.
 */
export function createMetadataApp(deps: MetadataAppDeps): FastifyInstance {
  const app: FastifyInstance = Fastify({
    loggerInstance: deps.logger.child({ listener: "metadata" }) as FastifyBaseLogger,
    ...requestIds,
    bodyLimit: 1024,
  });
  installProblemHandlers(app);
  instrument(app, deps.metrics, "metadata");

  const authenticate = async (request: FastifyRequest): Promise<SessionRecord> => {
    if (request.headers["x-forwarded-for"] !== undefined || request.headers.forwarded !== undefined) {
      deps.metrics.authFailures.inc({ listener: "metadata", reason: "proxied" });
      throw new LatchkeyError(
        "PROXIED_REQUEST",
        "Requests through a proxy are refused by the metadata endpoint.",
      );
    }
    const bound = socketSessions.get(request.raw);
    const source = request.ip || (bound === undefined ? "unix" : `unix:${bound}`);
    await deps.limiter.check(source);
    const token = credentialFromHeader(request.headers.authorization, true);
    try {
      if (token === undefined)
        throw new LatchkeyError("UNAUTHENTICATED", "Send the agent token in Authorization.");
      const session = await deps.agents.authenticate(token);
      if (bound !== undefined && session.id !== bound)
        throw new LatchkeyError("UNAUTHENTICATED", "The agent token is not valid for an active session.");
      return session;
    } catch (error) {
      if (!(error instanceof LatchkeyError) || error.code !== "UNAUTHENTICATED") throw error;
      deps.metrics.authFailures.inc({
        listener: "metadata",
        reason: token === undefined ? "missing" : "invalid",
      });
      await deps.limiter.recordFailure(source);
      await deps.audit.record({
        action: "auth.denied",
        outcome: "denied",
        actor: "agent",
        requestId: request.id,
        reason: token === undefined ? "missing" : "invalid",
        detail: { listener: "metadata", route: request.routeOptions.url ?? "unmatched" },
      });
      throw error;
    }
  };

  app.get("/v1/credentials", async (request) => {
    const session = await authenticate(request);
    return {
      sessionId: session.id,
      expiresAt: new Date(session.expiresAt).toISOString(),
      grants: (await deps.agents.grants(session)).map((g) => ({
        ...g,
        expiresAt: new Date(g.expiresAt).toISOString(),
      })),
    };
  });

  app.get<{ Params: { provider: string; grant: string } }>(
    "/v1/credentials/:provider/:grant",
    async (request, reply) => {
      const session = await authenticate(request);
      const { provider, grant } = request.params;
      const kind = providerKinds.find((k) => k === provider);
      if (!kind) throw new LatchkeyError("NOT_FOUND", `Unknown provider ${provider.slice(0, 32)}.`);
      const credential = await deps.agents.read(session, kind, grant, request.id);
      reply.header("cache-control", "no-store");
      return agentFormats[kind](credential);
    },
  );

  return app;
}
