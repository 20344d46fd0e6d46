import { readFileSync } from "node:fs";
import {
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
} from "jose";

export type SigningAlgorithm = "ES256" | "RS256";

export interface SigningKey {
  kid: string;
  alg: SigningAlgorithm;
  privateKey: CryptoKey;
  publicJwk: JWK;
  /** From this instant (ms) the key may sign; before it, it is only published. */
  notBefore: number;
}

export interface SigningKeySet {
  /** The key that signs now: the newest whose notBefore has passed. */
  signer(now: number): SigningKey;
  /** Keys a verifier needs: upcoming, current, and retired ones until their last token expired. */
  published(now: number): SigningKey[];
  byKid(kid: string): SigningKey | undefined;
}

/**
 * Orders keys by `notBefore`. A key stops signing when the next one's `notBefore` passes and
 * stays published for `maxTokenTtlMs` after that, so no token it signed outlives its key.
 */
export function createSigningKeySet(keys: readonly SigningKey[], maxTokenTtlMs: number): SigningKeySet {
  if (keys.length === 0) throw new TypeError("at least one signing key is required");
  const ordered = [...keys].sort((a, b) => a.notBefore - b.notBefore);
  const kids = new Set(ordered.map((k) => k.kid));
  if (kids.size !== ordered.length) throw new TypeError("signing keys must have distinct kids");
  const retiredAt = (index: number) => ordered[index + 1]?.notBefore ?? Number.POSITIVE_INFINITY;
  return {
    signer(now) {
      let current: SigningKey | undefined;
      for (const key of ordered) if (key.notBefore <= now) current = key;
      // Before the first key's notBefore nothing may sign; fall back to the earliest key rather
      // than refuse, since its publication is what notBefore protects and it is published.
      return current ?? (ordered[0] as SigningKey);
    },
    published(now) {
      return ordered.filter((_, i) => retiredAt(i) + maxTokenTtlMs > now);
    },
    byKid(kid) {
      return ordered.find((k) => k.kid === kid);
    },
  };
}

/** The public members of a JWK and its RFC 7638 thumbprint, which is the key's `kid`. */
async function publicWithKid(jwk: JWK): Promise<{ publicParts: JWK; kid: string }> {
  const {
    d: _d,
    p: _p,
    q: _q,
    dp: _dp,
    dq: _dq,
    qi: _qi,
    oth: _oth,
    kid: _kid,
    use: _use,
    alg: _alg,
    ...publicParts
  } = jwk;
  return { publicParts, kid: await calculateJwkThumbprint(publicParts, "sha256") };
}

async function toSigningKey(privateJwk: JWK, alg: SigningAlgorithm, notBefore: number): Promise<SigningKey> {
  const privateKey = (await importJWK({ ...privateJwk, alg }, alg, { extractable: false })) as CryptoKey;
  const { publicParts, kid } = await publicWithKid(privateJwk);
  return { kid, alg, privateKey, publicJwk: { ...publicParts, kid, alg, use: "sig" }, notBefore };
}

async function generatePrivateJwk(alg: SigningAlgorithm): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, {
    extractable: true,
    ...(alg === "RS256" ? { modulusLength: 2048 } : {}),
  });
  return exportJWK(privateKey);
}

export async function generateSigningKey(alg: SigningAlgorithm, notBefore = 0): Promise<SigningKey> {
  return toSigningKey(await generatePrivateJwk(alg), alg, notBefore);
}

/** A private JWK file as written by `latchkey keys generate`, for storing with 0600 permissions. */
export async function generateSigningKeyFile(alg: SigningAlgorithm): Promise<string> {
  const jwk = await generatePrivateJwk(alg);
  const { kid } = await publicWithKid(jwk);
  return `${JSON.stringify({ ...jwk, alg, kid, use: "sig" }, null, 2)}\n`;
}

export async function loadSigningKeyFile(
  path: string,
  alg: SigningAlgorithm,
  notBefore: number,
): Promise<SigningKey> {
  const jwk = JSON.parse(readFileSync(path, "utf8")) as JWK;
  if (jwk.alg !== undefined && jwk.alg !== alg) {
    throw new Error(`${path}: key is for ${jwk.alg} but signing.algorithm is ${alg}`);
  }
  if (!("d" in jwk)) throw new Error(`${path}: not a private key (no "d" member)`);
  return toSigningKey(jwk, alg, notBefore);
}
