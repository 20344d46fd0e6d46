import { z } from "zod";
import { LatchkeyError } from "../../errors.js";
import type { Logger } from "../../logging.js";
import type { Provider, RevokeOutcome } from "../types.js";
import { createGithubApp, type GithubApp, type GithubAppConfig, type InstallationToken } from "./app.js";
import { describeFailure, failureSummary, mapGithubError } from "./errors.js";
import { type GithubGrant, type GithubNarrow, githubNarrowSchema } from "./grant.js";
import { narrowGithubGrant } from "./narrow.js";

export interface GithubProviderDeps {
  /** `providers.github.apps` from the config, by the name grants use. */
  apps: Record<string, GithubAppConfig>;
  /** Relative key file paths resolve against this directory. */
  baseDir: string;
  logger: Logger;
}

/**
 * GitHub App installation tokens: one fresh token per session and grant, limited to the grant's
 * repositories and permissions, revoked with the token itself when the session ends.
 */
export function createGithubProvider(deps: GithubProviderDeps): Provider<GithubGrant, GithubNarrow> {
  const apps = new Map<string, GithubApp>(
    Object.entries(deps.apps).map(([name, config]) => [
      name,
      createGithubApp(name, config, { baseDir: deps.baseDir, logger: deps.logger }),
    ]),
  );
  // Which installation an owner has is not a secret and rarely changes; an installation GitHub
  // no longer knows drops its entry (see mint).
  const installations = new Map<string, Promise<number>>();

  const appOf = (name: string): GithubApp => {
    const app = apps.get(name);
    if (!app) {
      throw new LatchkeyError(
        "PROVIDER_UNAVAILABLE",
        `GitHub app ${name} is not configured under providers.github.apps on this broker.`,
        { extra: { app: name } },
      );
    }
    return app;
  };

  const installationOf = (app: GithubApp, owner: string, now: number): Promise<number> => {
    const key = `${app.name}/${owner.toLowerCase()}`;
    let found = installations.get(key);
    if (!found) {
      found = app.findInstallation(owner).catch((error: unknown) => {
        installations.delete(key);
        throw mapGithubError(error, { app: app.name, owner }, now);
      });
      installations.set(key, found);
    }
    return found;
  };

  return {
    kind: "github",
    secretFields: ["token"],
    // Each token is revoked by itself; another session's tokens are untouched.
    revocationCoversSession: false,
    narrowSchema: githubNarrowSchema,
    narrow: narrowGithubGrant,
    async mint(grant, context) {
      const app = appOf(grant.app);
      const installationId = grant.installationId ?? (await installationOf(app, grant.owner, context.now));
      let token: InstallationToken;
      try {
        token = await app.createToken(installationId, grant.repositories, grant.permissions);
      } catch (error) {
        if (error instanceof z.ZodError) {
          throw new LatchkeyError(
            "PROVIDER_ERROR",
            `GitHub answered for installation ${installationId} of GitHub app ${app.name} without a usable token.`,
            { extra: { app: app.name, installationId } },
          );
        }
        if (grant.installationId === undefined && describeFailure(error).status === 404) {
          installations.delete(`${app.name}/${grant.owner.toLowerCase()}`);
        }
        throw mapGithubError(error, { app: app.name, installationId }, context.now);
      }
      return {
        secret: { token: token.token },
        expiresAt: Date.parse(token.expires_at),
        reference: {
          app: app.name,
          appId: app.appId,
          installationId,
          owner: grant.owner,
          // What GitHub says the token carries, which may add implied permissions (metadata: read).
          repositories: (token.repositories?.map((r) => r.name) ?? grant.repositories).join(","),
          permissions: Object.entries(token.permissions ?? grant.permissions)
            .map(([name, level]) => `${name}:${level}`)
            .join(","),
          gitHost: app.gitHost,
        },
      };
    },
    async revoke(context): Promise<RevokeOutcome> {
      const appName = String(context.reference.app ?? "");
      const app = apps.get(appName);
      if (!app) {
        return {
          state: "revocation_pending",
          error: `GitHub app ${appName} is no longer configured, so its token cannot be revoked`,
          retryable: false,
        };
      }
      const token = context.secret?.token;
      if (token === undefined) {
        if (context.expiresAt <= context.now) return { state: "revoked", detail: "already expired" };
        return {
          state: "revocation_pending",
          error: `the broker no longer holds the token, so GitHub cannot be asked to revoke it; it expires at ${new Date(context.expiresAt).toISOString()}`,
          retryable: false,
        };
      }
      let status: number;
      try {
        status = await app.revokeToken(token);
      } catch (error) {
        const failure = describeFailure(error);
        // 401 is GitHub's answer for a token that is already revoked or expired.
        if (failure.status === 401) return { state: "revoked", detail: "GitHub no longer accepts the token" };
        return {
          state: "revocation_pending",
          error: failureSummary(failure),
          retryable:
            failure.status === undefined ||
            failure.status >= 500 ||
            failure.status === 403 ||
            failure.status === 429,
        };
      }
      if (status === 204) return { state: "revoked" };
      return {
        state: "revocation_pending",
        error: `GitHub answered ${status} to DELETE /installation/token instead of 204`,
        retryable: true,
      };
    },
  };
}
