// The rolling hash shared by matcher construction (at issuance) and the scanner (per input byte).
// Both sides must agree bit for bit, so the definition lives in one place:
//
//   anchor(x[0..L)) = (Σ x[j] · M^(L-1-j)) mod 2^32,   M = 0x9E3779B1
//
// a polynomial hash over bytes. Sliding the window one byte costs one multiply, one add and one
// table look-up (the outgoing byte's x·M^L), whatever the number of secrets loaded.

/** Bytes in the anchor window: the last ANCHOR_WINDOW bytes of each encoded form. */
export const ANCHOR_WINDOW = 16;

/** Odd, so each byte's contribution reaches the high bits the scanner's prefilter indexes by. */
export const ANCHOR_MULTIPLIER = 0x9e3779b1 | 0;

/** The anchor of `bytes[start..end)`, as an unsigned 32-bit integer. */
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
