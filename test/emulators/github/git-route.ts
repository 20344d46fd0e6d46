// Who may fetch over git, answered as GitHub answers git clients: a Basic challenge when
// credentials are missing or bad (so git asks its credential helper), "Repository not found."
// for a repository the token cannot see, and `git http-backend` for the rest.
import type { IncomingMessage, ServerResponse } from "node:http";
import { authenticateToken, canRead } from "./access.js";
import { messages } from "./errors.js";
import type { GitRepositories } from "./git.js";
import { sendText } from "./http.js";
import type { Registry } from "./installations.js";
import type { TokenStore } from "./tokens.js";

export type GitService = "info/refs" | "git-upload-pack";

export interface GitRouteRequest {
  req: IncomingMessage;
  res: ServerResponse;
  service: GitService;
  owner: string;
  repo: string;
  /** Headers GitHub adds to every answer. */
  headers: Record<string, string>;
}

export function createGitRoute(deps: { registry: Registry; tokens: TokenStore; git: GitRepositories }) {
  const { registry, tokens, git } = deps;

  /** Answers one git request and resolves with the status sent. */
  return async ({ req, res, service, owner, repo, headers }: GitRouteRequest): Promise<number> => {
    const query = new URL(req.url ?? "/", "http://emulator").searchParams;
    if (service === "info/refs" && query.get("service") !== "git-upload-pack") {
      sendText(res, 403, "Only fetching (git-upload-pack) is emulated.\n", headers);
      return 403;
    }
    const repository = registry.repository(owner, repo);
    const auth = authenticateToken(req.headers.authorization, tokens);
    const challenge = { ...headers, "www-authenticate": 'Basic realm="GitHub"' };
    if (auth.kind === "invalid") {
      sendText(res, 401, `${messages.gitInvalidCredentials}\n`, challenge);
      return 401;
    }
    if (repository === undefined || !canRead(auth, repository)) {
      // Without credentials GitHub cannot tell a private repository from a missing one.
      if (auth.kind === "anonymous") {
        sendText(res, 401, "", challenge);
        return 401;
      }
      sendText(res, 404, `${messages.gitRepositoryNotFound}\n`, headers);
      return 404;
    }
    return git.serve({
      req,
      res,
      repository,
      service,
      remoteUser: auth.kind === "token" ? "x-access-token" : undefined,
      headers,
    });
  };
}
