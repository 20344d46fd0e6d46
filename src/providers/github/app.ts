import { createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { createAppAuth } from "@octokit/auth-app";
import { request } from "@octokit/request";
import { z } from "zod";
import { resolvePath } from "../../config/load.js";
import { FileProblemsError } from "../../config/problems.js";
import type { Config } from "../../config/schema.js";
import type { Logger } from "../../logging.js";
import { version } from "../../version.js";
import type { PermissionLevel } from "./grant.js";

export type GithubAppConfig = NonNullable<Config["providers"]["github"]>["apps"][string];

/** GitHub answers within seconds; a call still open after this is treated as GitHub being unavailable. */
const CALL_TIMEOUT_MS = 10_000;

const installationTokenSchema = z.object({
  token: z.string().min(1),
  expires_at: z.string().refine((value) => !Number.isNaN(Date.parse(value)), "must be a date"),
  permissions: z.record(z.string(), z.string()).optional(),
  repositories: z.array(z.object({ name: z.string() })).optional(),
});
export type InstallationToken = z.infer<typeof installationTokenSchema>;

/** One configured GitHub App: its own JWTs, and the calls Latchkey makes with them or with its tokens. */
export interface GithubApp {
  readonly name: string;
  readonly appId: number | string;
  readonly gitHost: string;
  /** A fresh installation token, limited to `repositories` and `permissions`; never shared or cached. */
  createToken(
    installationId: number,
    repositories: readonly string[],
    permissions: Record<string, PermissionLevel>,
  ): Promise<InstallationToken>;
  /** The id of the app's installation on a user or organization account. */
  findInstallation(owner: string): Promise<number>;
  /** DELETE /installation/token authenticated by the token itself; resolves to GitHub's status. */
  revokeToken(token: string): Promise<number>;
}

/**
 * Reads the app's private key (PKCS#8 or PKCS#1 PEM) once; an unreadable or non-RSA key stops the
 * broker at start, naming the config field and the file but never the key's content.
 */
function readPrivateKey(name: string, file: string): string {
  const problem = (message: string, fix: string) =>
    new FileProblemsError([{ file, field: `providers.github.apps.${name}.privateKeyFile`, message, fix }]);
  let pem: string;
  try {
    pem = readFileSync(file, "utf8");
  } catch (error) {
    throw problem(
      `cannot read the app's private key (${(error as NodeJS.ErrnoException).code ?? "error"})`,
      "point privateKeyFile at the .pem file downloaded from the app's settings",
    );
  }
  try {
    const key = createPrivateKey(pem);
    if (key.asymmetricKeyType !== "rsa") throw new Error("not RSA");
    // PKCS#8 whatever the file held, so JWT signing needs no format conversion later.
    return key.export({ type: "pkcs8", format: "pem" }) as string;
  } catch {
    throw problem(
      "is not an RSA private key in PEM form (PKCS#8 or PKCS#1)",
      "use the .pem file GitHub generated for the app, unchanged",
    );
  }
}

export function createGithubApp(
  name: string,
  config: GithubAppConfig,
  deps: { baseDir: string; logger: Logger },
): GithubApp {
  const privateKey = readPrivateKey(name, resolvePath(deps.baseDir, config.privateKeyFile));
  const github = request.defaults({
    baseUrl: config.baseUrl.replace(/\/+$/, ""),
    headers: { "user-agent": `latchkey/${version}`, "x-github-api-version": "2022-11-28" },
    // A redirect would carry a token or JWT to wherever it points.
    request: { redirect: "error" },
  });
  // Only `auth({type: "app"})` is used: auth-app's installation tokens come from a module-global
  // cache and in-flight map shared by every caller, which would hand one session's token to another.
  const auth = createAppAuth({
    appId: config.appId,
    privateKey,
    request: github,
    log: { warn: (message: string) => deps.logger.warn({ app: name }, message) },
  });
  const appJwt = async () => `bearer ${(await auth({ type: "app" })).token}`;
  const timeout = () => ({ signal: AbortSignal.timeout(CALL_TIMEOUT_MS) });

  return {
    name,
    appId: config.appId,
    gitHost: config.gitHost,
    async createToken(installationId, repositories, permissions) {
      const answer = await github("POST /app/installations/{installation_id}/access_tokens", {
        installation_id: installationId,
        headers: { authorization: await appJwt() },
        repositories: [...repositories],
        permissions,
        request: timeout(),
      });
      return installationTokenSchema.parse(answer.data);
    },
    async findInstallation(owner) {
      // GitHub answers this route for organization logins as well as users.
      const answer = await github("GET /users/{username}/installation", {
        username: owner,
        headers: { authorization: await appJwt() },
        request: timeout(),
      });
      return z.object({ id: z.number().int().positive() }).parse(answer.data).id;
    },
    async revokeToken(token) {
      const answer = await github("DELETE /installation/token", {
        headers: { authorization: `token ${token}` },
        request: timeout(),
      });
      return answer.status;
    },
  };
}
