// Installation tokens: GitHub's two formats, and the state that makes each one independently
// revocable and expiring on the emulator's clock.
import { createHmac, randomBytes, randomInt } from "node:crypto";
import { crc32 } from "node:zlib";
import type { GithubPermissions } from "./types.js";

const base62Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const prefix = "ghs_";
const lifetimeMs = 60 * 60 * 1000;

export function base62(length: number, pick: (max: number) => number): string {
  let out = "";
  for (let i = 0; i < length; i++) out += base62Alphabet[pick(62)];
  return out;
}

function base62Fixed(value: number, width: number): string {
  let out = "";
  for (let rest = value; rest > 0; rest = Math.floor(rest / 62)) out = base62Alphabet[rest % 62] + out;
  return out.padStart(width, "0");
}

/** `ghs_` + 30 random base62 + the CRC32 of those 30 in base62, so scanners can check it offline. */
function classicToken(): string {
  const random = base62(30, randomInt);
  return `${prefix}${random}${base62Fixed(crc32(random), 6)}`;
}

// GitHub publishes `ghs_[A-Za-z0-9._]{36,}` as the matcher for both formats, so a stateless token
// must hold no '-'. The header and payload are plain ASCII JSON, whose base64url never has one;
// a signature that does is drawn again with a fresh jti (an 86-char signature passes with p ≈ 0.26).
const statelessShape = /^ghs_\d+_[A-Za-z0-9_]+\.[A-Za-z0-9_]+\.[A-Za-z0-9_]+$/;

/** `ghs_<appId>_<JWT>`, the stateless form GitHub began issuing in April 2026 (~520 chars). */
function statelessToken(secret: Buffer, claims: Record<string, unknown>): string {
  const appId = String(claims.app_id);
  const header = Buffer.from(JSON.stringify({ alg: "HS512", typ: "JWT", kid: `app-${appId}` })).toString(
    "base64url",
  );
  for (;;) {
    const payload = Buffer.from(JSON.stringify({ ...claims, jti: randomBytes(24).toString("hex") })).toString(
      "base64url",
    );
    const signature = createHmac("sha512", secret).update(`${header}.${payload}`).digest("base64url");
    const token = `${prefix}${appId}_${header}.${payload}.${signature}`;
    if (statelessShape.test(token)) return token;
  }
}

export interface IssuedToken {
  token: string;
  format: "classic" | "stateless";
  appId: number;
  installationId: number;
  /** Ids of the repositories the token reaches. */
  repositoryIds: number[];
  repositoryNames: string[];
  permissions: GithubPermissions;
  expiresAtMs: number;
  revoked: boolean;
}

export type TokenState = "live" | "revoked" | "expired" | "unknown";

export interface MintRequest {
  format: "classic" | "stateless";
  appId: number;
  installationId: number;
  repositories: { id: number; name: string }[];
  permissions: GithubPermissions;
}

export interface TokenStore {
  mint(request: MintRequest): IssuedToken;
  state(token: string): TokenState;
  /** The token when it is live; undefined for every other state, as GitHub answers them alike. */
  live(token: string): IssuedToken | undefined;
  revoke(issued: IssuedToken): void;
  all(): IssuedToken[];
}

export function createTokenStore(now: () => number): TokenStore {
  const secret = randomBytes(64);
  const tokens = new Map<string, IssuedToken>();

  const state = (token: string): TokenState => {
    const issued = tokens.get(token);
    if (issued === undefined) return "unknown";
    if (issued.revoked) return "revoked";
    return now() >= issued.expiresAtMs ? "expired" : "live";
  };
  const live = (token: string) => (state(token) === "live" ? tokens.get(token) : undefined);

  return {
    mint({ format, appId, installationId, repositories, permissions }) {
      const issuedAtMs = now();
      const expiresAtMs = issuedAtMs + lifetimeMs;
      const claims = {
        iss: "latchkey-github-emulator",
        app_id: appId,
        installation_id: installationId,
        repository_ids: repositories.map((r) => r.id),
        permissions,
        iat: Math.floor(issuedAtMs / 1000),
        exp: Math.floor(expiresAtMs / 1000),
      };
      const draw = () => (format === "classic" ? classicToken() : statelessToken(secret, claims));
      let token = draw();
      while (tokens.has(token)) token = draw();
      const issued: IssuedToken = {
        token,
        format,
        appId,
        installationId,
        repositoryIds: repositories.map((r) => r.id),
        repositoryNames: repositories.map((r) => r.name),
        permissions,
        expiresAtMs,
        revoked: false,
      };
      tokens.set(token, issued);
      return issued;
    },
    state,
    live,
    revoke(issued) {
      issued.revoked = true;
    },
    all: () => [...tokens.values()],
  };
}
