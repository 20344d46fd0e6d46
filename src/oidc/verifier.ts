import { createLocalJWKSet, type JWTPayload, jwtVerify } from "jose";
import type { Clock } from "../clock.js";
import type { SigningKeySet } from "../providers/jwt/keys.js";
import { jtiDenyKey } from "../providers/jwt/provider.js";
import type { SessionRepository } from "../sessions/repository.js";
import type { Store } from "../store/types.js";

export interface TokenVerifier {
  /** The claims of a live Latchkey token, or null for anything else (forged, expired, revoked, ended). */
  verify(token: string): Promise<JWTPayload | null>;
}

export function createTokenVerifier(deps: {
  issuer: string;
  keys: SigningKeySet;
  store: Store;
  repo: SessionRepository;
  clock: Clock;
}): TokenVerifier {
  return {
    async verify(token) {
      if (token.length > 16_384) return null;
      const now = deps.clock.now();
      let payload: JWTPayload;
      try {
        const jwks = createLocalJWKSet({ keys: deps.keys.published(now).map((k) => k.publicJwk) });
        ({ payload } = await jwtVerify(token, jwks, {
          issuer: deps.issuer,
          typ: "at+jwt",
          algorithms: ["ES256", "RS256"],
          currentDate: new Date(now),
          requiredClaims: ["jti", "sub", "exp", "iat"],
        }));
      } catch {
        return null;
      }
      if (await deps.store.get(jtiDenyKey(String(payload.jti)))) return null;
      // A session that ended makes its tokens inactive at once, even before the deny list is written.
      const session = await deps.repo.getSession(String(payload.sub));
      if (session?.record.state !== "active") return null;
      return payload;
    },
  };
}
