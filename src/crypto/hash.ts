import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** Hex SHA-256: the fingerprint stored, logged and audited in place of any secret. */
export function sha256Hex(value: string | Uint8Array): string {
  return createHash("sha256").update(value).digest("hex");
}

/**
 * Compares two strings without leaking where they differ. Both sides are hashed first so the
 * comparison takes the same time whatever their lengths (and equal digests mean equal inputs).
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = createHash("sha256").update(a).digest();
  const right = createHash("sha256").update(b).digest();
  return timingSafeEqual(left, right);
}

/** A random secret of `bytes` bytes, base64url, with a readable prefix so scanners can spot it. */
export function randomSecret(prefix: string, bytes = 32): string {
  return `${prefix}${randomBytes(bytes).toString("base64url")}`;
}

export function randomId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString("base64url")}`;
}
