// Line and column of a finding, counted over the scanner's window buffer. Every byte of the input
// passes through here once (the window buffer counts what it drops), so newlines are counted a
// 32-bit word at a time: one Buffer.indexOf call per line cost more than a tenth of a scan.

export interface LinePoint {
  abs: number;
  /** Newlines before abs. */
  line: number;
  /** Code points between the last newline and abs. */
  column: number;
}

const NEWLINE = 0x0a;
const NEWLINES = 0x0a0a0a0a;
/** Words per block: each byte lane of the block's sum counts at most one newline per word. */
const BLOCK_WORDS = 255;

/**
 * The point `to` bytes into the stream, counted on from `from`. `bytes` holds the stream from
 * stream offset `base` on, and `words` is the same memory read as 32-bit words.
 */
export function advance(
  from: LinePoint,
  to: number,
  bytes: Uint8Array,
  words: Int32Array,
  base: number,
): LinePoint {
  const begin = from.abs - base;
  const stop = to - base;
  const newlines = countNewlines(bytes, words, begin, stop);
  if (newlines === 0)
    return { abs: to, line: from.line, column: from.column + codePoints(bytes, begin, stop) };
  const lineStart = bytes.lastIndexOf(NEWLINE, stop - 1) + 1;
  return { abs: to, line: from.line + newlines, column: codePoints(bytes, lineStart, stop) };
}

/** Newline bytes in bytes[from..to); `words` is the same memory as 32-bit words. */
export function countNewlines(bytes: Uint8Array, words: Int32Array, from: number, to: number): number {
  const firstWord = (from + 3) >> 2;
  const endWord = to >> 2;
  if (endWord <= firstWord) return countBytes(bytes, from, to);
  let count = countBytes(bytes, from, 4 * firstWord) + countBytes(bytes, 4 * endWord, to);
  for (let w = firstWord; w < endWord; ) {
    const blockEnd = Math.min(endWord, w + BLOCK_WORDS);
    // Per byte lane: bit 7 of ~(((x & 0x7f) + 0x7f) | x) is set exactly where x is 0, that is
    // where the input byte is a newline; shifted to bit 0, the lanes add up without carrying.
    let lanes = 0;
    for (; w < blockEnd; w++) {
      const x = (words[w] as number) ^ NEWLINES;
      lanes = (lanes + ((~(((x & 0x7f7f7f7f) + 0x7f7f7f7f) | 0 | x) & 0x80808080) >>> 7)) | 0;
    }
    count += (lanes & 0xff) + ((lanes >>> 8) & 0xff) + ((lanes >>> 16) & 0xff) + (lanes >>> 24);
  }
  return count;
}

function countBytes(bytes: Uint8Array, from: number, to: number): number {
  let count = 0;
  for (let i = from; i < to; i++) if (bytes[i] === NEWLINE) count++;
  return count;
}

/** UTF-8 code points that start in data[from..to): every byte but continuation bytes. */
export function codePoints(data: Uint8Array, from: number, to: number): number {
  let count = 0;
  for (let i = from; i < to; i++) if (((data[i] as number) & 0xc0) !== 0x80) count++;
  return count;
}
