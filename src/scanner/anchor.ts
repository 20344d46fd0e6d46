// The hashes shared by matcher construction (at issuance) and the scanner. Both sides must agree
// bit for bit, so the definitions live in one place.
//
// Word anchors, for forms of LONG_FORM bytes or more. The scanner reads its input as aligned
// little-endian 32-bit words and, once per PROBE_STRIDE bytes, hashes the ANCHOR_WINDOW bytes
// (4 words) that end there: one hash and one filter probe per 8 input bytes, with no chain from
// one probe to the next for the processor to wait on. A form can sit at any offset modulo 8, so
// its matcher carries the anchor of each of the 8 windows that can be the last probed one inside
// it: those ending 0 to 7 bytes before the form's end (the high-entropy end of every format we
// issue).
//
//   word(x, i)   = x[i] | x[i+1] << 8 | x[i+2] << 16 | x[i+3] << 24
//   mix(w)       = w ^ (w >>> 15)
//   h            = Σ_k mix(word(x, s + 4k)) · C_k  (k = 0..3, mod 2^32);  anchor = h ^ (h >>> 15)
//
// mix is applied once per word, and it matters: without it the anchor is a linear function of the
// window's bytes mod 2^32, and the anchors of a form's overlapping windows could be solved
// together for its last bytes.
//
// Whole-form anchors, for shorter forms: a polynomial rolling hash over the whole form,
//
//   anchor(x[0..L)) = (Σ x[j] · M^(L-1-j)) mod 2^32,   M = 0x9E3779B1
//
// which slides one byte for one multiply, one add and one table look-up. Such forms are rare (every
// credential Latchkey issues is longer), so the scanner pays for this loop only when one is loaded.

/**
 * Changes with any change to the definitions below: matchers made under another scheme are
 * refused (issuedMatcherSchema) or not read (stored ones), never probed for and missed.
 */
export const ANCHOR_SCHEME = 2;

/** Bytes in a word anchor's window. */
export const ANCHOR_WINDOW = 16;

/** Bytes from one probed window's end to the next: two words. */
export const PROBE_STRIDE = 8;

/** Forms at least this long get word anchors: each of their PROBE_STRIDE windows fits inside. */
export const LONG_FORM = ANCHOR_WINDOW + PROBE_STRIDE - 1;

/** Word anchors per long form: one per offset of the form's end modulo PROBE_STRIDE. */
export const WORD_ANCHORS = PROBE_STRIDE;

/** The multiplier of the word at each place of the window, oldest first (odd, unrelated). */
export const WORD_MULTIPLIERS = [0x9e3779b1 | 0, 0x85ebca77 | 0, 0xc2b2ae3d | 0, 0x27d4eb2f | 0] as const;

/** Odd, so each byte's contribution reaches the high bits the short-form filter indexes by. */
export const ANCHOR_MULTIPLIER = 0x9e3779b1 | 0;

/** The word anchor of the window `bytes[start..start + ANCHOR_WINDOW)`, unsigned. */
export function windowAnchor(bytes: Uint8Array, start: number): number {
  let h = 0;
  for (let k = 0; k < 4; k++) {
    const at = start + 4 * k;
    const word =
      (bytes[at] as number) |
      ((bytes[at + 1] as number) << 8) |
      ((bytes[at + 2] as number) << 16) |
      ((bytes[at + 3] as number) << 24);
    h = (h + Math.imul(word ^ (word >>> 15), WORD_MULTIPLIERS[k] as number)) | 0;
  }
  return (h ^ (h >>> 15)) >>> 0;
}

/** A long form's anchors: element d is that of the window ending d bytes before the form's end. */
export function wordAnchors(form: Uint8Array): number[] {
  if (form.length < LONG_FORM) throw new RangeError(`wordAnchors: a form needs ${LONG_FORM} bytes or more`);
  return Array.from({ length: WORD_ANCHORS }, (_, tail) =>
    windowAnchor(form, form.length - ANCHOR_WINDOW - tail),
  );
}

/** The whole-form anchor of `bytes[start..end)`, as an unsigned 32-bit integer. */
export function anchorHash(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let h = 0;
  for (let i = start; i < end; i++) h = (Math.imul(h, ANCHOR_MULTIPLIER) + (bytes[i] as number)) | 0;
  return h >>> 0;
}

/** `table[b]` = b · M^length mod 2^32: what leaves the hash when byte b leaves a `length`-byte window. */
export function outgoingTable(length: number): Int32Array {
  let power = 1;
  for (let i = 0; i < length; i++) power = Math.imul(power, ANCHOR_MULTIPLIER);
  const table = new Int32Array(256);
  for (let b = 0; b < 256; b++) table[b] = Math.imul(b, power);
  return table;
}
