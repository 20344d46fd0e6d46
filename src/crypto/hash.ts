import { hash, randomBytes, timingSafeEqual } from "node:crypto";

// Node's one-shot `hash` (20.12 and later): a third of the time of createHash().update().digest()
// on the short inputs hashed here, on every request.

/** Hex SHA-256: the fingerprint stored, logged and audited in place of any secret. */
export function sha256Hex(value: string | Uint8Array): string {
  return hash("sha256", value, "hex");
}

/**
 * Compares two strings without leaking where they differ. Both sides are hashed first so the
 * comparison takes the same time whatever their lengths (and equal digests mean equal inputs).
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = hash("sha256", a, "buffer");
  const right = hash("sha256", b, "buffer");
  return timingSafeEqual(left, right);
}

// Random bytes are drawn from the CSPRNG a pool at a time (as Node's own randomUUID does): one
// system call serves many ids, tokens and IVs. Every byte is handed out once and wiped.
const POOL_SIZE = 4096;
let pool = Buffer.alloc(0);
let poolOffset = 0;

/** `bytes` fresh random bytes from the CSPRNG pool. */
export function randomBuffer(bytes: number): Buffer {
  if (bytes > POOL_SIZE) return randomBytes(bytes);
  if (poolOffset + bytes > pool.length) {
    pool = randomBytes(POOL_SIZE);
    poolOffset = 0;
  }
  const out = Buffer.from(pool.subarray(poolOffset, poolOffset + bytes));
  pool.fill(0, poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  return out;
}

/** A random secret of `bytes` bytes, base64url, with a readable prefix so scanners can spot it. */
export function randomSecret(prefix: string, bytes = 32): string {
  return `${prefix}${randomBuffer(bytes).toString("base64url")}`;
}

export function randomId(prefix: string): string {
  return `${prefix}_${randomBuffer(12).toString("base64url")}`;
}
