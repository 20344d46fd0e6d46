import { SignJWT } from "jose";
import { randomBuffer } from "../../crypto/hash.js";
import type { Store } from "../../store/types.js";
import { asList, widening } from "../narrowing.js";
import type { Provider } from "../types.js";
import { type JwtGrant, type JwtNarrow, jwtNarrowSchema } from "./grant.js";
import type { SigningKeySet } from "./keys.js";

export interface JwtProviderDeps {
  issuer: string;
  keys: SigningKeySet;
  store: Store;
}

/** Deny-list entries outlive the token by this much, covering verifiers' clock tolerance. */
const DENY_MARGIN_MS = 5 * 60 * 1000;

export const jtiDenyKey = (jti: string) => `jti-deny:${jti}`;

export function createJwtProvider(deps: JwtProviderDeps): Provider<JwtGrant, JwtNarrow> {
  return {
    kind: "jwt",
    secretFields: ["token"],
    revocationCoversSession: false,
    narrowSchema: jwtNarrowSchema,
    narrow(grant, request) {
      const narrowed: JwtGrant = { ...grant };
      if (request.ttlSeconds !== undefined) {
        if (request.ttlSeconds > grant.ttlSeconds) {
          throw widening("narrow.ttlSeconds", `the grant allows at most ${grant.ttlSeconds} seconds`);
        }
        narrowed.ttlSeconds = request.ttlSeconds;
      }
      if (request.audience !== undefined) {
        const allowed = new Set(asList(grant.audience));
        const wanted = asList(request.audience);
        const extra = wanted.find((aud) => !allowed.has(aud));
        if (extra !== undefined)
          throw widening("narrow.audience", "an audience the grant does not name was requested");
        narrowed.audience = wanted.length === 1 ? (wanted[0] as string) : wanted;
      }
      if (request.claims !== undefined) {
        const unknown = request.claims.find((name) => !(name in grant.claims));
        if (unknown !== undefined)
          throw widening("narrow.claims", "a claim the grant does not carry was requested");
        narrowed.claims = Object.fromEntries(
          Object.entries(grant.claims).filter(([name]) => request.claims?.includes(name)),
        );
      }
      return narrowed;
    },
    async mint(grant, context) {
      const key = deps.keys.signer(context.now);
      const jti = randomBuffer(16).toString("base64url");
      const issuedAt = Math.floor(context.now / 1000);
      const expiresAt = Math.min(issuedAt + grant.ttlSeconds, Math.floor(context.notAfter / 1000));
      // Registered claims are set last so a grant's extra claims can never override them.
      const token = await new SignJWT({ ...grant.claims, client_id: context.clientId })
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "at+jwt" })
        .setIssuer(deps.issuer)
        .setSubject(context.sessionId)
        .setAudience(grant.audience)
        .setIssuedAt(issuedAt)
        .setNotBefore(issuedAt)
        .setExpirationTime(expiresAt)
        .setJti(jti)
        .sign(key.privateKey);
      return { secret: { token }, expiresAt: expiresAt * 1000, reference: { jti, kid: key.kid } };
    },
    async revoke(context) {
      const jti = String(context.reference.jti ?? "");
      if (!jti) return { state: "revocation_pending", error: "credential has no jti", retryable: false };
      const ttlMs = Math.max(1, context.expiresAt - context.now + DENY_MARGIN_MS);
      await deps.store.commit([], [{ op: "set", key: jtiDenyKey(jti), value: context.sessionId, ttlMs }]);
      return { state: "revoked" };
    },
  };
}
