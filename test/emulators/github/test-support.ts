// Helpers shared by the emulator's tests and by other suites that run against it.
import { createAppAuth } from "@octokit/auth-app";
import { request } from "@octokit/request";
import { CompactSign, importPKCS8 } from "jose";
import type { GithubEmulator } from "./index.js";
import { createResponseValidator, type ResponseValidator } from "./openapi/validate.js";

/**
 * A frozen clock tests move by hand, starting on a whole second so `expires_at` is exact.
 * auth-app signs its JWTs with the real clock and `exp` 570 s ahead, so a suite on one frozen
 * clock must finish within 30 s of starting it (or advance it).
 */
export function manualClock(start = Math.floor(Date.now() / 1000) * 1000) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}

/** auth-app caches tokens for 59 minutes by default; per-call tokens need every mint to hit the API. */
export const noTokenCache = { get: () => "", set: () => undefined };

/** The real auth-app pointed at the emulator; `useClientId` makes it sign with the client id as `iss`. */
export function appAuth(
  emulator: GithubEmulator,
  appId: number,
  options: { useClientId?: boolean; privateKey?: string } = {},
) {
  const app = emulator.app(appId);
  return createAppAuth({
    appId: options.useClientId ? app.clientId : app.id,
    privateKey: options.privateKey ?? app.privateKeyPem,
    cache: noTokenCache,
    request: request.defaults({ baseUrl: emulator.baseUrl }),
  });
}

/** Signs arbitrary claims as an app JWT; the header and claims are taken exactly as given. */
export async function signAppJwt(
  key: string | Parameters<CompactSign["sign"]>[0],
  claims: Record<string, unknown>,
  header: { alg: string; typ?: string } = { alg: "RS256", typ: "JWT" },
): Promise<string> {
  const signingKey = typeof key === "string" ? await importPKCS8(key, header.alg) : key;
  return new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
    .setProtectedHeader(header)
    .sign(signingKey);
}

/**
 * Every JSON body the emulator answered with, checked against GitHub's schema for its operation
 * and status; returns one line per mismatch. Bodies from unmatched routes are held to
 * `basic-error`.
 */
export function schemaMismatches(
  emulator: GithubEmulator,
  validator: ResponseValidator = createResponseValidator(),
): { checked: number; mismatches: string[] } {
  let checked = 0;
  const mismatches: string[] = [];
  for (const { route, status, operationId, body } of emulator.requests) {
    if (body === undefined && operationId === undefined) continue;
    const errors =
      operationId === undefined
        ? validator.checkComponent("basic-error", body)
        : validator.check(operationId, status, body);
    checked += 1;
    for (const error of errors) mismatches.push(`${route} ${status}: ${error}`);
  }
  return { checked, mismatches };
}
