// The REST operations: each checks its credential as GitHub does and answers with GitHub's object
// or error. Installation lookups only ever see the authenticated app's own installations.
import type { IncomingHttpHeaders } from "node:http";
import { authenticateToken, canRead } from "./access.js";
import { planToken } from "./access-tokens.js";
import { githubError, messages } from "./errors.js";
import { errorReply, isoSeconds, type JsonReply } from "./http.js";
import type { App, Installation, Registry } from "./installations.js";
import { verifyAppJwt } from "./jwt.js";
import type { ObjectBuilders } from "./objects.js";
import type { OperationId } from "./openapi/operations.js";
import type { TokenStore } from "./tokens.js";

export interface RestRequest {
  params: Record<string, string>;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export type RestHandler = (request: RestRequest) => JsonReply;

export interface RestDeps {
  registry: Registry;
  tokens: TokenStore;
  objects: ObjectBuilders;
  now: () => number;
  documentationUrl(operationId: OperationId): string;
  permissionLevels: ReadonlyMap<string, readonly string[]>;
}

/** The per-request choice GitHub offers during the stateless-token rollout; other values are ignored. */
function tokenFormat(app: App, header: string | string[] | undefined): App["tokenFormat"] {
  if (header === "enabled") return "stateless";
  if (header === "disabled") return "classic";
  return app.tokenFormat;
}

export function createRestHandlers(deps: RestDeps): Record<OperationId, RestHandler> {
  const { registry, tokens, objects, now } = deps;
  const notFound = (operationId: OperationId) =>
    errorReply(githubError(404, messages.notFound, deps.documentationUrl(operationId)));

  /** Runs `answer` for the app the request's JWT proves, or answers with the JWT's error. */
  const asApp =
    (answer: (app: App, request: RestRequest) => JsonReply): RestHandler =>
    (request) => {
      const app = verifyAppJwt(request.headers.authorization, registry, now());
      return "status" in app ? errorReply(app) : answer(app, request);
    };

  const installationReply = (operationId: OperationId, installation: Installation | undefined): JsonReply =>
    installation === undefined
      ? notFound(operationId)
      : { status: 200, body: objects.installation(installation) };

  const ownInstallation = (app: App, id: string | undefined) =>
    app.installations.find((i) => String(i.id) === id);

  return {
    "apps/get-authenticated": asApp((app) => ({ status: 200, body: objects.integration(app) })),

    "apps/get-installation": asApp((app, { params }) =>
      installationReply("apps/get-installation", ownInstallation(app, params.id)),
    ),

    "apps/create-installation-access-token": asApp((app, { params, headers, body }) => {
      const operationId = "apps/create-installation-access-token";
      const installation = ownInstallation(app, params.id);
      if (installation === undefined) return notFound(operationId);
      const plan = planToken({
        installation,
        reachable: registry.reachable(installation),
        rawBody: body,
        permissionLevels: deps.permissionLevels,
        documentationUrl: deps.documentationUrl(operationId),
      });
      if ("status" in plan) return errorReply(plan);
      const issued = tokens.mint({
        format: tokenFormat(app, headers["x-github-stateless-s2s-token"]),
        appId: app.id,
        installationId: installation.id,
        repositories: plan.repositories,
        permissions: plan.permissions,
      });
      return {
        status: 201,
        body: {
          token: issued.token,
          expires_at: isoSeconds(issued.expiresAtMs),
          permissions: issued.permissions,
          repository_selection: plan.limited ? "selected" : installation.repositorySelection,
          ...(plan.limited ? { repositories: plan.repositories.map((r) => objects.repository(r)) } : {}),
        },
      };
    }),

    "apps/revoke-installation-access-token": ({ headers }) => {
      const auth = authenticateToken(headers.authorization, tokens);
      if (auth.kind === "anonymous") return errorReply(githubError(401, messages.requiresAuthentication));
      if (auth.kind === "invalid") return errorReply(githubError(401, messages.badCredentials));
      tokens.revoke(auth.token);
      return { status: 204 };
    },

    "apps/get-repo-installation": asApp((app, { params }) => {
      const repository = registry.repository(params.owner ?? "", params.repo ?? "");
      const installation = app.installations.find(
        (i) => repository && registry.reachable(i).includes(repository),
      );
      return installationReply("apps/get-repo-installation", installation);
    }),

    "apps/get-user-installation": asApp((app, { params }) => {
      const account = registry.account(params.username ?? "");
      return installationReply(
        "apps/get-user-installation",
        app.installations.find((i) => i.account === account),
      );
    }),

    "apps/get-org-installation": asApp((app, { params }) => {
      const account = registry.account(params.org ?? "");
      return installationReply(
        "apps/get-org-installation",
        account?.type === "Organization" ? app.installations.find((i) => i.account === account) : undefined,
      );
    }),

    "repos/get": ({ params, headers }) => {
      const auth = authenticateToken(headers.authorization, tokens);
      if (auth.kind === "invalid") return errorReply(githubError(401, messages.badCredentials));
      const repository = registry.repository(params.owner ?? "", params.repo ?? "");
      if (repository === undefined || !canRead(auth, repository)) return notFound("repos/get");
      const access = auth.kind === "token" ? auth.token.permissions : undefined;
      return { status: 200, body: objects.fullRepository(repository, access) };
    },
  };
}
