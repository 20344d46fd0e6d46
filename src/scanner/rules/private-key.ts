import { isBase64Char } from "./text.js";
import type { Rule, RuleMatch } from "./types.js";

// PEM private keys, in the shapes agents leave them: on separate lines, flattened onto one line
// with spaces, or inside a JSON/env string with `\n` escapes (`\\n` when escaped twice). The body
// must start like a key: a DER SEQUENCE (`MI` once the key is 128 bytes or more; `MC` to `MH`
// for short EC and Ed25519 keys) or the OpenSSH magic. Placeholders do not.

const DASHES = "-----";
const TAIL = "PRIVATE KEY-----";
const MAX_LABEL = 32;
const MAX_BODY = 12 * 1024;
const MIN_BODY_CHARS = 64;
const OPENSSH_MAGIC = "b3BlbnNzaC1rZXktdjE";

/** base64 of 0x30 and a length byte: "M" then A to P. */
function startsLikeKey(text: string, at: number): boolean {
  const second = text.charCodeAt(at + 1);
  return (
    (text.charCodeAt(at) === 0x4d && second >= 0x41 && second <= 0x50) || text.startsWith(OPENSSH_MAGIC, at)
  );
}

const isLabelChar = (code: number): boolean =>
  code === 0x20 || (code >= 0x41 && code <= 0x5a) || (code >= 0x30 && code <= 0x39);

/** Where `-----BEGIN <label>` starts, for a TAIL at `hit`; -1 when the hit is not a BEGIN line. */
function beginMarkerStart(text: string, hit: number): number {
  let i = hit;
  while (i > 0 && hit - i <= MAX_LABEL + 6 && isLabelChar(text.charCodeAt(i - 1))) i--;
  // i is just past the dashes; the label run swallowed "BEGIN " as well.
  const start = i - DASHES.length;
  if (start < 0 || !text.startsWith(DASHES, start) || !text.startsWith("BEGIN ", i)) return -1;
  return start;
}

/** Skips separators between base64 lines: whitespace and `\n`, `\r`, `\\n` escapes. */
function skipSeparators(text: string, from: number): number {
  let i = from;
  for (;;) {
    const code = text.charCodeAt(i);
    if (code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d) i++;
    else if (code === 0x5c) {
      let j = i + 1;
      while (text.charCodeAt(j) === 0x5c && j - i < 4) j++;
      const letter = text.charCodeAt(j);
      if (letter !== 0x6e && letter !== 0x72) return i;
      i = j + 1;
    } else return i;
  }
}

export const privateKey: Rule = {
  id: "private-key",
  name: "PrivateKey",
  description: "PEM private key (RSA, EC, DSA, PKCS#8, encrypted PKCS#8 or OpenSSH)",
  severity: "critical",
  keywords: ["private key-----"],
  before: MAX_LABEL + 12,
  after: MAX_BODY + MAX_LABEL + 40,
  find(text, hits) {
    const found: RuleMatch[] = [];
    for (const hit of hits) {
      if (!text.startsWith(TAIL, hit)) continue;
      const start = beginMarkerStart(text, hit);
      if (start < 0) continue;
      const label = text.slice(start + DASHES.length + "BEGIN ".length, hit);
      let i = skipSeparators(text, hit + TAIL.length);
      if (!startsLikeKey(text, i)) continue;
      const bodyStart = i;
      let chars = 0;
      while (i - bodyStart < MAX_BODY) {
        const code = text.charCodeAt(i);
        if (isBase64Char(code) || code === 0x3d) {
          chars++;
          i++;
          continue;
        }
        const next = skipSeparators(text, i);
        if (next === i) break;
        i = next;
      }
      const end = `${DASHES}END ${label}${TAIL}`;
      if (chars >= MIN_BODY_CHARS && text.startsWith(end, i)) found.push({ start, end: i + end.length });
    }
    return found;
  },
};
