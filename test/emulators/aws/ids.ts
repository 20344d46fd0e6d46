// Identifiers shaped like the ones AWS issues, so scanners and parsers that look at them (the
// leak scanner's AWS rules, account lookups from a key id) see nothing unusual.
//
// Modern AWS key ids and unique ids are a 4-letter type prefix plus base32 (RFC 4648 alphabet)
// of 10 bytes. The first 6 bytes, big-endian, hold `0x800000000000 | account << 7 | noise`: the
// account decodes as `(value & 0x7fffffffff80) >> 7`. The top bit is set so ids never start with
// the old-generation `I`/`J` that carry no account (see the project's secret-formats reference §2).
import { randomBytes, randomInt } from "node:crypto";

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const ACCOUNT_BITS_MASK = 0x7fffffffff80n;

export type IdPrefix = "AKIA" | "ASIA" | "AROA" | "AIDA";

export function base32Encode(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

export function base32Decode(text: string): Uint8Array {
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const char of text) {
    const digit = BASE32.indexOf(char);
    if (digit < 0) throw new TypeError(`not base32: ${JSON.stringify(char)}`);
    value = (value << 5) | digit;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
      value &= (1 << bits) - 1;
    }
  }
  return Uint8Array.from(out);
}

export function isAccountId(value: string): boolean {
  return /^\d{12}$/.test(value);
}

/** 20 characters: prefix + 16 base32 characters carrying the account. */
export function newKeyId(prefix: IdPrefix, accountId: string): string {
  if (!isAccountId(accountId))
    throw new TypeError(`account id must be 12 digits, got ${JSON.stringify(accountId)}`);
  const head = 0x800000000000n | (BigInt(accountId) << 7n) | BigInt(randomInt(128));
  const bytes = new Uint8Array(10);
  for (let i = 0; i < 6; i++) bytes[i] = Number((head >> BigInt(8 * (5 - i))) & 0xffn);
  bytes.set(randomBytes(4), 6);
  return prefix + base32Encode(bytes);
}

/** 21 characters, like `AROA…`/`AIDA…` unique ids: a key-id body plus one more base32 character. */
export function newUniqueId(prefix: "AROA" | "AIDA", accountId: string): string {
  return newKeyId(prefix, accountId) + BASE32[randomInt(32)];
}

export function accountIdFromKeyId(keyId: string): string {
  const bytes = base32Decode(keyId.slice(4, 20));
  let head = 0n;
  for (let i = 0; i < 6; i++) head = (head << 8n) | BigInt(bytes[i] ?? 0);
  return ((head & ACCOUNT_BITS_MASK) >> 7n).toString().padStart(12, "0");
}

/** 40 characters of the base64 alphabet, like real secret access keys. */
export function newSecretAccessKey(): string {
  return randomBytes(30).toString("base64");
}

// Real session tokens are opaque base64 that grows with the session policy and tags packed into
// it; they begin with the same bytes ("IQoJb3JpZ2luX2Vj"), which scanners key on.
const SESSION_TOKEN_HEAD = "IQoJb3JpZ2luX2Vj";

/** `minimumSize` is AssumeRole's MinimumSessionTokenSize: the token is padded to at least that. */
export function newSessionToken(packedBytes: number, minimumSize = 0): string {
  const bodyChars = Math.max(4 * Math.ceil((600 + packedBytes) / 3), minimumSize - SESSION_TOKEN_HEAD.length);
  // Whole base64 quanta, so the token never carries `=` padding.
  const bytes = 3 * Math.ceil(bodyChars / 4);
  return SESSION_TOKEN_HEAD + randomBytes(bytes).toString("base64");
}

/** ISO 8601 to the second, the way STS and IAM print timestamps (`2026-11-26T18:00:00Z`). */
export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

/** SigV4's ISO 8601 basic format, `20261126T180000Z`. */
export function amzDate(ms: number): string {
  return isoSeconds(ms).replace(/[-:]/g, "");
}
