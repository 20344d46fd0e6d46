import { z } from "zod";
import type { Clock } from "../clock.js";
import { route } from "../http/route.js";
import type { SigningKeySet } from "../providers/jwt/keys.js";
import type { SessionRepository } from "../sessions/repository.js";
import type { SessionService } from "../sessions/service.js";
import type { TokenVerifier } from "./verifier.js";

const tokenBody = z
  .object({
    token: z.string().min(1).max(16_384),
    token_type_hint: z.string().max(64).optional(),
  })
  .strict();

const anyClient = ["orchestrator", "auditor"] as const;
const formOrJson = ["application/x-www-form-urlencoded", "application/json"] as const;

export function oidcRoutes(deps: {
  issuer: string;
  keys: SigningKeySet;
  clock: Clock;
  verifier: TokenVerifier;
  sessions: SessionService;
  repo: SessionRepository;
}) {
  return [
    route({
      method: "GET",
      url: "/.well-known/openid-configuration",
      summary: "OpenID Connect discovery document for Latchkey's token issuer",
      tag: "oidc",
      auth: "public",
      responses: { 200: "The discovery document" },
      async handler({ reply }) {
        reply.header("cache-control", "public, max-age=300");
        return {
          issuer: deps.issuer,
          jwks_uri: `${deps.issuer}/.well-known/jwks.json`,
          introspection_endpoint: `${deps.issuer}/v1/introspect`,
          revocation_endpoint: `${deps.issuer}/v1/revoke`,
          response_types_supported: ["id_token"],
          subject_types_supported: ["public"],
          id_token_signing_alg_values_supported: ["ES256", "RS256"],
          token_endpoint_auth_methods_supported: ["none"],
          introspection_endpoint_auth_methods_supported: ["client_secret_bearer"],
          revocation_endpoint_auth_methods_supported: ["client_secret_bearer"],
          claims_supported: ["iss", "sub", "aud", "exp", "iat", "nbf", "jti", "client_id"],
        };
      },
    }),
    route({
      method: "GET",
      url: "/.well-known/jwks.json",
      summary: "Public keys that verify Latchkey tokens, including the next and recently retired keys",
      tag: "oidc",
      auth: "public",
      responses: { 200: "A JWK Set" },
      async handler({ reply }) {
        reply.header("cache-control", "public, max-age=300");
        return { keys: deps.keys.published(deps.clock.now()).map((k) => k.publicJwk) };
      },
    }),
    route({
      method: "POST",
      url: "/v1/introspect",
      summary: "RFC 7662 token introspection (form-encoded `token=...`, JSON accepted)",
      tag: "oidc",
      auth: anyClient,
      body: tokenBody,
      consumes: formOrJson,
      responses: { 200: "`{active:false}` for any token that is not live, else its claims" },
      async handler({ body, reply }) {
        reply.header("cache-control", "no-store");
        const claims = await deps.verifier.verify(body.token);
        if (!claims) return { active: false };
        return { active: true, token_type: "Bearer", ...claims };
      },
    }),
    route({
      method: "POST",
      url: "/v1/revoke",
      summary: "RFC 7009 token revocation by the client that owns the token's session",
      tag: "oidc",
      auth: ["orchestrator"],
      body: tokenBody,
      consumes: formOrJson,
      responses: { 200: "Revoked, or not a token this client may revoke (RFC 7009 answers 200 either way)" },
      async handler({ body, client, request }) {
        const claims = await deps.verifier.verify(body.token);
        if (!claims) return {};
        const session = await deps.repo.getSession(String(claims.sub));
        if (!session || (client.role !== "admin" && session.record.clientId !== client.id)) return {};
        const credentials = await deps.repo.getCredentials(session.record.id, session.record.credentialIds);
        const match = credentials.find((c) => c.record.reference.jti === claims.jti);
        if (match) await deps.sessions.revokeCredential(match.record, "requested", client.id, request.id);
        return {};
      },
    }),
  ];
}
