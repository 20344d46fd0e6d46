import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { AuditLog } from "./audit/log.js";
import { auditRoutes } from "./audit/routes.js";
import type { Clock } from "./clock.js";
import { healthRoutes } from "./http/health-routes.js";
import { instrument, requestIds } from "./http/instrument.js";
import type { Metrics } from "./http/metrics.js";
import { createOpenApiCollector } from "./http/openapi.js";
import { installProblemHandlers } from "./http/problem.js";
import { type ClientRouteDeps, registerRoutes } from "./http/route.js";
import { registerLeakRoutes } from "./leaks/routes.js";
import type { LeakService } from "./leaks/service.js";
import type { Logger } from "./logging.js";
import { createMetadataApp } from "./metadata/app.js";
import { oidcRoutes } from "./oidc/routes.js";
import type { TokenVerifier } from "./oidc/verifier.js";
import type { SigningKeySet } from "./providers/jwt/keys.js";
import type { CompiledScope } from "./scopes/load.js";
import { scopeRoutes } from "./scopes/routes.js";
import type { AgentAccess } from "./sessions/agent.js";
import type { SessionRepository } from "./sessions/repository.js";
import { sessionRoutes } from "./sessions/routes.js";
import type { SessionService } from "./sessions/service.js";
import type { Store } from "./store/types.js";

export interface AppDeps extends Omit<ClientRouteDeps, "openapi" | "limiter"> {
  store: Store;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  audit: AuditLog;
  scopes: ReadonlyMap<string, CompiledScope>;
  sessions: SessionService;
  agents: AgentAccess;
  repo: SessionRepository;
  verifier: TokenVerifier;
  signingKeys: SigningKeySet;
  leaks: LeakService;
  limiters: { api: ClientRouteDeps["limiter"]; metadata: ClientRouteDeps["limiter"] };
  issuer: string;
  metadataUrl: string;
  bodyLimit: number;
  version: string;
}

export interface Apps {
  api: FastifyInstance;
  metadata: FastifyInstance;
}

/** Builds both listeners from their dependencies; the process (ports, signals) is server.ts's job. */
export function createApp(deps: AppDeps): Apps {
  const api: FastifyInstance = Fastify({
    loggerInstance: deps.logger.child({ listener: "api" }) as FastifyBaseLogger,
    bodyLimit: deps.bodyLimit,
    ...requestIds,
  });
  installProblemHandlers(api);
  instrument(api, deps.metrics, "api");
  // RFC 7662 and RFC 7009 clients send form bodies.
  // Many HTTP clients send `Content-Type: application/json` on a DELETE or GET without a body;
  // an empty body is no body, and routes that need one say what is missing.
  const json = api.getDefaultJsonParser("error", "error");
  api.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    if (body === "") done(null, undefined);
    else json(request, body as string, done);
  });
  api.addContentTypeParser(
    "application/x-www-form-urlencoded",
    { parseAs: "string" },
    (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    },
  );

  const openapi = createOpenApiCollector({ title: "Latchkey broker API", version: deps.version });
  const routes = [
    ...healthRoutes({ store: deps.store, metrics: deps.metrics, openapi }),
    ...scopeRoutes({ scopes: deps.scopes }),
    ...sessionRoutes({ sessions: deps.sessions, metadataUrl: deps.metadataUrl }),
    ...auditRoutes({ audit: deps.audit }),
    ...oidcRoutes({
      issuer: deps.issuer,
      keys: deps.signingKeys,
      clock: deps.clock,
      verifier: deps.verifier,
      sessions: deps.sessions,
      repo: deps.repo,
    }),
  ];
  const routeDeps = {
    authenticator: deps.authenticator,
    limiter: deps.limiters.api,
    audit: deps.audit,
    metrics: deps.metrics,
    openapi,
  };
  registerRoutes(api, routes, routeDeps);
  registerLeakRoutes(api, { ...routeDeps, leaks: deps.leaks });

  const metadata = createMetadataApp({
    agents: deps.agents,
    audit: deps.audit,
    limiter: deps.limiters.metadata,
    metrics: deps.metrics,
    logger: deps.logger,
  });
  return { api, metadata };
}
