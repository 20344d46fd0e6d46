// Matchers let a scanner find a secret Latchkey issued without ever holding the secret. They are
// computed once at issuance, stored beside the credential's metadata, kept after the secret itself
// is deleted (so a recently revoked secret is still recognised), and served to `latchkey scan`.
//
// A matcher describes one encoded form of the secret: its length, its anchors (hashes of windows
// at the form's end, see anchor.ts) and the SHA-256 of the whole form. The end of the form is
// anchored because it is the high-entropy part of every format we issue (a JWT starts with the
// constant `eyJhbGciOi…`, a GitHub token with `ghs_`, an AWS session token with `IQoJb3JpZ2lu…`).
// A form of LONG_FORM bytes or more has WORD_ANCHORS anchors, of 16-byte windows; a shorter one has
// a single anchor of the whole form. Each anchor gives away 32 bits about its window; recovering
// the secret still means inverting SHA-256 of all of it.

import { z } from "zod";
import { sha256Hex } from "../crypto/hash.js";
import { anchorHash, LONG_FORM, WORD_ANCHORS, wordAnchors } from "./anchor.js";

export type SecretEncoding = "raw" | "base64" | "base64url" | "hex" | "url" | "json";

const secretEncodings = [
  "raw",
  "base64",
  "base64url",
  "hex",
  "url",
  "json",
] as const satisfies readonly SecretEncoding[];

export interface IssuedMatcher {
  credentialId: string;
  sessionId: string;
  provider: string;
  encoding: SecretEncoding;
  /**
   * Which form of the encoding: base64/base64url 0..2 = how many bytes precede the secret in its
   * 3-byte group; hex 0 lower, 1 upper; url 0 `encodeURIComponent`, 1 form encoding (`+` for
   * space); json 0 `JSON.stringify`, 1 with `\/`, 2 with `\u00XX` for non-ASCII and `<>&`, 3 both.
   */
  variant: number;
  /** Bytes of the encoded form. */
  length: number;
  /**
   * Forms of LONG_FORM bytes or more: element d is the word anchor of the 16-byte window ending d
   * bytes before the form's end (wordAnchors). Shorter forms: one element, the anchorHash of the
   * whole form. See anchor.ts.
   */
  anchors: number[];
  /** Hex SHA-256 of the encoded form. */
  digest: string;
  /** Hex SHA-256 of the raw secret value (for a single-field credential, its fingerprint). */
  fingerprint: string;
}

export interface MatcherRef {
  credentialId: string;
  sessionId: string;
  provider: string;
}

/** An encoded form of a secret. Holds the secret: for building matchers, never to be stored. */
export interface EncodedForm {
  encoding: SecretEncoding;
  variant: number;
  text: string;
}

/**
 * Derived forms shorter than this are left out: a few base64 characters cut from the middle of a
 * short secret would turn up in unrelated data and prove nothing.
 */
const MIN_DERIVED_FORM = 8;

const hexDigest = z.string().regex(/^[0-9a-f]{64}$/, "expected 64 lowercase hex digits");

/** Matchers made before word anchors carried a single `anchor`: they are refused, not misread. */
export const issuedMatcherSchema: z.ZodType<IssuedMatcher> = z
  .object({
    credentialId: z.string().min(1),
    sessionId: z.string().min(1),
    provider: z.string().min(1),
    encoding: z.enum(secretEncodings),
    variant: z.number().int().min(0).max(15),
    length: z.number().int().min(1),
    anchors: z.array(z.number().int().min(0).max(0xffffffff)),
    digest: hexDigest,
    fingerprint: hexDigest,
  })
  .refine((m) => m.anchors.length === anchorCount(m.length), {
    message: `expected ${WORD_ANCHORS} anchors for a form of ${LONG_FORM} bytes or more, else 1`,
    path: ["anchors"],
  });

function anchorCount(length: number): number {
  return length >= LONG_FORM ? WORD_ANCHORS : 1;
}

/**
 * The characters of base64(prefix ‖ secret) that depend on the secret alone, where the prefix is
 * `alignment` bytes of unknown data: so the form is found inside any larger blob that carries the
 * secret at that offset modulo 3, whatever surrounds it.
 */
function alignedBase64(data: Buffer, alignment: number): string {
  const encoded = Buffer.concat([Buffer.alloc(alignment), data]).toString("base64");
  const first = Math.ceil((8 * alignment) / 6);
  const end = Math.floor((8 * (alignment + data.length)) / 6);
  return encoded.slice(first, end);
}

/** `\u00XX` for every non-ASCII code unit and for `<`, `>`, `&` (Go and ensure_ascii encoders). */
function unicodeEscaped(json: string): string {
  let out = "";
  for (let i = 0; i < json.length; i++) {
    const unit = json.charCodeAt(i);
    out +=
      unit > 0x7f || unit === 0x3c || unit === 0x3e || unit === 0x26
        ? `\\u${unit.toString(16).padStart(4, "0")}`
        : json.charAt(i);
  }
  return out;
}

/**
 * Characters that URL encoding (both kinds) and every JSON escaping leave as they are: a secret
 * made of only these (tokens, JWTs) has no URL or JSON form of its own, and building one just to
 * find it equal to the raw form was a third of the cost of issuing a credential.
 */
const UNCHANGED_WHEN_ESCAPED = /^[A-Za-z0-9_.-]*$/;

/** Every distinct form in which the secret may show up in agent output. */
export function encodedForms(secret: string): EncodedForm[] {
  if (secret.length === 0) throw new TypeError("encodedForms: the secret is empty");
  const raw = Buffer.from(secret, "utf8");
  const candidates: EncodedForm[] = [{ encoding: "raw", variant: 0, text: secret }];
  const base64 = [0, 1, 2].map((alignment) => alignedBase64(raw, alignment));
  base64.forEach((text, alignment) => {
    candidates.push({ encoding: "base64", variant: alignment, text });
  });
  base64.forEach((text, alignment) => {
    candidates.push({ encoding: "base64url", variant: alignment, text: toBase64url(text) });
  });
  const hex = raw.toString("hex");
  candidates.push(
    { encoding: "hex", variant: 0, text: hex },
    { encoding: "hex", variant: 1, text: hex.toUpperCase() },
  );
  if (!UNCHANGED_WHEN_ESCAPED.test(secret)) {
    candidates.push(
      { encoding: "url", variant: 0, text: encodeURIComponent(secret) },
      { encoding: "url", variant: 1, text: new URLSearchParams({ v: secret }).toString().slice(2) },
    );
    const json = JSON.stringify(secret).slice(1, -1);
    candidates.push(
      { encoding: "json", variant: 0, text: json },
      { encoding: "json", variant: 1, text: json.replaceAll("/", "\\/") },
      { encoding: "json", variant: 2, text: unicodeEscaped(json) },
      { encoding: "json", variant: 3, text: unicodeEscaped(json).replaceAll("/", "\\/") },
    );
  }
  const seen = new Set<string>();
  return candidates.filter((form) => {
    if (seen.has(form.text)) return false;
    seen.add(form.text);
    return form.encoding === "raw" || form.text.length >= MIN_DERIVED_FORM;
  });
}

/** The base64url text of the same bytes: the alphabets differ in two characters, padding aside. */
function toBase64url(base64: string): string {
  return base64.replaceAll("+", "-").replaceAll("/", "_");
}

/**
 * The matchers of one secret value. A credential with several secret fields (an AWS secret key
 * and session token) gets one call per field.
 */
export function buildMatchers(secret: string, ref: MatcherRef): IssuedMatcher[] {
  const fingerprint = sha256Hex(secret);
  return encodedForms(secret).map((form) => {
    const bytes = Buffer.from(form.text, "utf8");
    return {
      credentialId: ref.credentialId,
      sessionId: ref.sessionId,
      provider: ref.provider,
      encoding: form.encoding,
      variant: form.variant,
      length: bytes.length,
      anchors: bytes.length >= LONG_FORM ? wordAnchors(bytes) : [anchorHash(bytes)],
      digest: sha256Hex(bytes),
      fingerprint,
    };
  });
}
