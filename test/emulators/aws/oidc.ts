// Web identity tokens for AssumeRoleWithWebIdentity, checked the way STS does: the issuer must be
// a registered OIDC provider, its discovery document and JWKS are fetched for every call (STS
// caches them; an emulator that does not lets tests rotate keys at will), the signature must be
// RS256/384/512 or ES256/384/512, then expiry and audience. Real IAM only accepts https issuers;
// the emulator also accepts http so a test can serve its issuer from node:http.
import {
  compactVerify,
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  type JSONWebKeySet,
} from "jose";
import { AwsError } from "./errors.js";
import type { EmulatorState, OidcProvider, Tag } from "./state.js";

const WEB_IDENTITY_ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512"];
const FETCH_TIMEOUT_MS = 5000;

export interface WebIdentity {
  readonly provider: OidcProvider;
  readonly issuer: string;
  readonly subject: string;
  readonly audience: string;
  readonly sourceIdentity?: string;
  readonly tags: readonly Tag[];
  /** As written in the token; callers lower-case them. */
  readonly transitiveTagKeys: readonly string[];
}

const invalid = (message: string) => new AwsError("InvalidIdentityToken", message);

// STS's wording, double space included (as captured from a real response).
const cannotRetrieveKey = () =>
  invalid(
    "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements",
  );

const REQUIRED_DISCOVERY_FIELDS = [
  "issuer",
  "jwks_uri",
  "response_types_supported",
  "subject_types_supported",
  "id_token_signing_alg_values_supported",
];

async function fetchJson(url: string): Promise<unknown> {
  const response = await fetch(url, { redirect: "error", signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
  return response.json();
}

async function fetchKeys(issuer: string): Promise<JSONWebKeySet> {
  try {
    const discovery = await fetchJson(`${issuer}/.well-known/openid-configuration`);
    if (typeof discovery !== "object" || discovery === null) throw new Error("discovery is not an object");
    const fields = discovery as Record<string, unknown>;
    if (REQUIRED_DISCOVERY_FIELDS.some((field) => fields[field] === undefined))
      throw new Error("discovery incomplete");
    if (fields.issuer !== issuer || typeof fields.jwks_uri !== "string")
      throw new Error("discovery mismatch");
    const jwks = await fetchJson(fields.jwks_uri);
    if (typeof jwks !== "object" || jwks === null || !Array.isArray((jwks as { keys?: unknown }).keys)) {
      throw new Error("not a JWK set");
    }
    return jwks as JSONWebKeySet;
  } catch {
    throw cannotRetrieveKey();
  }
}

function readTags(claim: unknown): { tags: Tag[]; transitive: string[] } {
  if (claim === undefined) return { tags: [], transitive: [] };
  const shape = claim as { principal_tags?: unknown; transitive_tag_keys?: unknown };
  if (typeof claim !== "object" || claim === null) throw invalid("Invalid session tags claim in the token");
  const tags: Tag[] = [];
  const principalTags = shape.principal_tags ?? {};
  if (typeof principalTags !== "object" || principalTags === null)
    throw invalid("Invalid session tags claim in the token");
  for (const [key, raw] of Object.entries(principalTags)) {
    const value = Array.isArray(raw) && raw.length === 1 ? raw[0] : raw;
    if (typeof value !== "string") throw invalid("Invalid session tags claim in the token");
    tags.push({ key, value });
  }
  const transitive = shape.transitive_tag_keys ?? [];
  if (!Array.isArray(transitive) || transitive.some((k) => typeof k !== "string")) {
    throw invalid("Invalid session tags claim in the token");
  }
  return { tags, transitive: transitive as string[] };
}

export async function verifyWebIdentityToken(state: EmulatorState, token: string): Promise<WebIdentity> {
  let algorithm: unknown;
  let unverified: Record<string, unknown>;
  try {
    algorithm = decodeProtectedHeader(token).alg;
    unverified = decodeJwt(token);
  } catch {
    throw invalid("The ID token provided is not a valid JWT");
  }
  const issuer = unverified.iss;
  if (typeof issuer !== "string") throw invalid("The ID token has no issuer");
  const provider = state.provider(issuer);
  if (provider === undefined) throw invalid(`No OpenIDConnect provider found in your account for ${issuer}`);
  if (typeof algorithm !== "string" || !WEB_IDENTITY_ALGORITHMS.includes(algorithm)) {
    throw invalid(`Unsupported token signing algorithm ${String(algorithm)}`);
  }

  const keys = createLocalJWKSet(await fetchKeys(provider.url));
  let claims: Record<string, unknown>;
  try {
    const { payload } = await compactVerify(token, keys, { algorithms: WEB_IDENTITY_ALGORITHMS });
    claims = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof errors.JWSSignatureVerificationFailed)
      throw invalid("The token signature is invalid");
    throw cannotRetrieveKey();
  }

  const expiry = claims.exp;
  if (typeof expiry !== "number") throw invalid("The ID token has no expiration time");
  const nowSeconds = Math.floor(state.now() / 1000);
  if (nowSeconds >= expiry) {
    throw new AwsError(
      "ExpiredTokenException",
      `Token expired: current date/time ${nowSeconds} must be before the expiration date/time ${expiry}`,
    );
  }
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  const audience = audiences.find(
    (aud): aud is string => typeof aud === "string" && provider.audiences.includes(aud),
  );
  if (audience === undefined) throw invalid("Incorrect token audience");
  if (typeof claims.sub !== "string") throw invalid("The ID token has no subject");

  const sourceIdentity = claims["https://aws.amazon.com/source_identity"];
  if (sourceIdentity !== undefined && typeof sourceIdentity !== "string") {
    throw invalid("Invalid source identity claim in the token");
  }
  const { tags, transitive } = readTags(claims["https://aws.amazon.com/tags"]);
  return {
    provider,
    issuer,
    subject: claims.sub,
    audience,
    ...(sourceIdentity === undefined ? {} : { sourceIdentity }),
    tags,
    transitiveTagKeys: transitive,
  };
}
