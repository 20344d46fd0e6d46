// App JWT verification with GitHub's rules and answers: RS256 against the app's public key,
// `iss` = app id or client id, integer `iat` not in the future, integer `exp` in the future and at
// most ten minutes ahead.
import { verify } from "node:crypto";
import { type GithubError, githubError, messages } from "./errors.js";
import type { App, Registry } from "./installations.js";

/** How far ahead of the emulator's clock `iat` may be. Clients that backdate `iat` by 30-60 s, as
 * GitHub recommends, never come near it; a client clock a few seconds fast still passes. */
const iatSkewSeconds = 5;
const maxLifetimeSeconds = 600;

const segment = /^[A-Za-z0-9_-]+$/;
// Client ids: "Iv1.0123456789abcdef" (older) or "Iv23li..." (current).
const clientIdShape = /^Iv[0-9A-Za-z.]+$/;

const undecodable = () => githubError(401, messages.jwtUndecodable);

function decodeJson(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function findIssuer(iss: unknown, registry: Registry): App | GithubError {
  let app: App | undefined;
  if (typeof iss === "number" && Number.isInteger(iss)) app = registry.app(iss);
  else if (typeof iss === "string" && /^\d+$/.test(iss)) app = registry.app(Number(iss));
  else if (typeof iss === "string" && clientIdShape.test(iss)) app = registry.appByClientId(iss);
  else return githubError(401, messages.jwtIssInvalid);
  return app ?? githubError(404, messages.integrationNotFound);
}

/** The app a request's `Authorization: Bearer <JWT>` proves, or GitHub's error for it. */
export function verifyAppJwt(
  authorization: string | undefined,
  registry: Registry,
  nowMs: number,
): App | GithubError {
  const match = /^bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
  const parts = match?.[1]?.split(".") ?? [];
  if (parts.length !== 3 || !parts.every((p) => segment.test(p))) return undecodable();
  const [headerPart = "", payloadPart = "", signaturePart = ""] = parts;
  const header = decodeJson(headerPart);
  const claims = decodeJson(payloadPart);
  if (header?.alg !== "RS256" || claims === undefined) return undecodable();

  const app = findIssuer(claims.iss, registry);
  if ("status" in app) return app;
  const signed = Buffer.from(`${headerPart}.${payloadPart}`);
  if (!verify("sha256", signed, app.publicKey, Buffer.from(signaturePart, "base64url"))) return undecodable();

  const now = Math.floor(nowMs / 1000);
  const { iat, exp } = claims;
  if (typeof iat !== "number" || !Number.isInteger(iat) || iat > now + iatSkewSeconds) {
    return githubError(401, messages.jwtIatInvalid);
  }
  if (typeof exp !== "number" || !Number.isInteger(exp) || exp <= now)
    return githubError(401, messages.jwtExpInvalid);
  if (exp > now + maxLifetimeSeconds) return githubError(401, messages.jwtExpTooFar);
  return app;
}
