// Routing: matches a request to a route by name ("POST /app/installations/:id/access_tokens"),
// applies planned failures, dispatches to the REST handlers or to git, and records the outcome.
import type { IncomingMessage, ServerResponse } from "node:http";
import { githubError, messages } from "./errors.js";
import { type FailureInjector, injectedError } from "./failures.js";
import type { GitRouteRequest, GitService } from "./git-route.js";
import { errorReply, githubHeaders, type JsonReply, readBody, sendJson, sendText } from "./http.js";
import type { OperationId } from "./openapi/operations.js";
import type { RestHandler } from "./rest.js";
import type { RecordedRequest } from "./types.js";

type RouteTarget = { operationId: OperationId } | { gitService: GitService };

const routeTable: (RouteTarget & { name: string })[] = [
  { name: "GET /app", operationId: "apps/get-authenticated" },
  { name: "GET /app/installations/:id", operationId: "apps/get-installation" },
  { name: "POST /app/installations/:id/access_tokens", operationId: "apps/create-installation-access-token" },
  { name: "DELETE /installation/token", operationId: "apps/revoke-installation-access-token" },
  { name: "GET /repos/:owner/:repo/installation", operationId: "apps/get-repo-installation" },
  { name: "GET /users/:username/installation", operationId: "apps/get-user-installation" },
  { name: "GET /orgs/:org/installation", operationId: "apps/get-org-installation" },
  { name: "GET /repos/:owner/:repo", operationId: "repos/get" },
  { name: "GET /:owner/:repo.git/info/refs", gitService: "info/refs" },
  { name: "POST /:owner/:repo.git/git-upload-pack", gitService: "git-upload-pack" },
];

export const routeNames: readonly string[] = routeTable.map((r) => r.name);

const routes = routeTable.map((route) => {
  const [method, path = ""] = route.name.split(" ");
  const source = path
    .replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
    .replace(/:([a-z]+)/g, (_, param: string) => `(?<${param}>[^/]+?)`);
  return { ...route, method, pattern: new RegExp(`^${source}$`) };
});

function findRoute(method: string, path: string) {
  for (const route of routes) {
    const match = route.method === method ? route.pattern.exec(path) : null;
    if (match === null) continue;
    const params = Object.entries(match.groups ?? {}).map(([k, v]) => [k, decodeURIComponent(v)] as const);
    return { route, params: Object.fromEntries(params) };
  }
  return undefined;
}

export interface RequestHandlerDeps {
  rest: Record<OperationId, RestHandler>;
  serveGit: (request: GitRouteRequest) => Promise<number>;
  failures: FailureInjector;
  now: () => number;
  /** Every answered request is appended here. */
  requests: RecordedRequest[];
}

export function createRequestHandler(deps: RequestHandlerDeps) {
  const { rest, serveGit, failures, now, requests } = deps;

  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://emulator");
    const method = req.method ?? "GET";
    const headers = githubHeaders(now());
    let route = url.pathname;
    let operationId: OperationId | undefined;
    let reply: JsonReply | undefined;
    try {
      const found = findRoute(method, url.pathname);
      if (found === undefined) {
        reply = errorReply(githubError(404, messages.notFound));
      } else {
        const { route: matched, params } = found;
        route = matched.name;
        const failure = failures.take(route);
        if ("gitService" in matched) {
          if (failure !== undefined) {
            sendText(res, failure, `${injectedError(failure, now()).body.message}\n`, headers);
            requests.push({ method, route, status: failure });
          } else {
            const { owner = "", repo = "" } = params;
            const status = await serveGit({ req, res, service: matched.gitService, owner, repo, headers });
            requests.push({ method, route, status });
          }
          return;
        }
        operationId = matched.operationId;
        reply =
          failure !== undefined
            ? errorReply(injectedError(failure, now()))
            : rest[operationId]({ params, headers: req.headers, body: await readBody(req) });
      }
    } catch (error) {
      if (res.headersSent) {
        res.destroy(error instanceof Error ? error : undefined);
        requests.push({ method, route, status: 500 });
        return;
      }
      reply = errorReply(githubError(500, `Emulator error: ${String(error)}`));
    }
    sendJson(res, reply, headers);
    requests.push({
      method,
      route,
      status: reply.status,
      ...(operationId === undefined ? {} : { operationId }),
      ...(reply.body === undefined ? {} : { body: reply.body }),
    });
  };
}
