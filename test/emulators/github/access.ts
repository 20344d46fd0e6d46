// Who may read a repository with an installation token, shared by the REST API and git.
import type { Repository } from "./installations.js";
import type { IssuedToken, TokenStore } from "./tokens.js";

export type TokenAuth =
  | { kind: "anonymous" }
  | { kind: "token"; token: IssuedToken }
  /** Revoked, expired, unknown, or not a credential at all: GitHub answers all of them alike. */
  | { kind: "invalid" };

/** The secret of `token X`, `Bearer X`, or Basic `user:X` (git sends `x-access-token:X`). */
export function credentialFrom(authorization: string): string | undefined {
  const scheme = /^(token|bearer)\s+(\S+)\s*$/i.exec(authorization);
  if (scheme) return scheme[2];
  const basic = /^basic\s+(\S+)\s*$/i.exec(authorization);
  if (!basic?.[1]) return undefined;
  const decoded = Buffer.from(basic[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon > 0 && colon < decoded.length - 1 ? decoded.slice(colon + 1) : undefined;
}

export function authenticateToken(authorization: string | undefined, tokens: TokenStore): TokenAuth {
  if (authorization === undefined) return { kind: "anonymous" };
  const credential = credentialFrom(authorization);
  const token = credential === undefined ? undefined : tokens.live(credential);
  return token === undefined ? { kind: "invalid" } : { kind: "token", token };
}

/** Public repositories are readable by anyone; private ones only through a token limited to them. */
export function canRead(auth: Exclude<TokenAuth, { kind: "invalid" }>, repository: Repository): boolean {
  if (!repository.private) return true;
  return auth.kind === "token" && auth.token.repositoryIds.includes(repository.id);
}
