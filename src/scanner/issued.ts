// The scanner's view of issued matchers: a blocked Bloom filter that rejects almost every anchor
// with one memory access (the anchor's high bits pick a 32-bit word, three of its low bits must be
// set there; with 10,000 secrets about 4% of probes pass), a second, smaller one that turns away
// most of those, a third read only for what passes both, and behind them an open-addressing table
// from the full anchor to the matchers that share it. The work per input byte is nearly the same
// whether 10 or 10,000 secrets are loaded.

import { LONG_FORM, outgoingTable, WORD_ANCHORS } from "./anchor.js";
import type { IssuedMatcher } from "./matchers.js";

/**
 * One form's place in an index, as a number: the matcher's index times WORD_ANCHORS plus the
 * anchor's tail (bytes between the end of the anchored window and the end of the form; 0 for a
 * short form). Numbers, not objects: with 10,000 secrets an index holds about 500,000 of them.
 */
export type EntryCode = number;

/** Matchers of forms shorter than LONG_FORM, all of one length: anchored on the whole form. */
export interface ShortForms {
  readonly length: number;
  readonly outgoing: Int32Array;
  readonly filter: Int32Array;
  readonly wordShift: number;
  readonly groups: ReadonlyMap<number, readonly EntryCode[]>;
}

/**
 * The three bits `anchor` sets in its filter word: bits 0-4, 5-9 and 10-14 of the anchor pick
 * them (a shift count is taken modulo 32), while the word comes from bits 15 and up.
 */
export function filterMask(anchor: number): number {
  return (1 << anchor) | (1 << (anchor >>> 5)) | (1 << (anchor >>> 10));
}

/**
 * The filter has 2^17 words (512 KB: a core's whole L2 cache on some of the 2-CPU machines
 * measured, half of it on others) whatever the number of secrets: the same cache footprint for 10
 * secrets or 10,000 (about 60,000 long forms, 8 anchors each). What grows is the share of probes
 * it lets through: about 4% with 10,000 secrets. Those cost the loop next to nothing as long as
 * the second filter turns them away (measured with a second filter that turns away everything:
 * 10,000 secrets then scan as fast as 1,000); the time 10,000 secrets add is spent on the 0.5% of
 * probes that pass both (about 7,200 per 10 MB), in the loop and in the table behind it. A larger
 * filter, or more probes per byte, cuts that share but slows every scan, 1,000 included.
 */
const WORDS_LOG2 = 17;
/**
 * The second filter is checked inside the word loop wherever the first lets a probe through
 * (about 4% of probes with 10,000 secrets), so it must stay in the cache beside the first: a read
 * that goes to memory there stalls the loop, and made 10,000 secrets scan a fifth slower than
 * 1,000. At most 2^16 words (256 KB), where it still turns away about six in seven of what
 * reaches it; the rest go on to the third filter (GATE_MAX_LOG2) and the table.
 */
const CONFIRM_MAX_LOG2 = 16;
const CONFIRM_MIN_LOG2 = 4;
const SHORT_WORDS_LOG2 = 10;
/**
 * A third filter guards the table: what passes the first two (about 7,200 probes per 10 MB with
 * 10,000 secrets) would otherwise each cost the table a read from memory, as its 8 MB rarely stay
 * in cache. Read outside the word loop, it turns away all but about one in 25 of them for 2^17
 * words. Measured in one process (CPU time, scan after scan), it moved the rate with 10,000
 * secrets from 0.88-0.91 to 0.89-0.94 times that with 1,000: a small gain, less than the
 * benchmark's noise, for half a megabyte.
 */
const GATE_MAX_LOG2 = 17;

export class IssuedIndex {
  /** `filter[anchor >>> wordShift]` has the bits of filterMask(anchor) set, for every word anchor. */
  readonly filter: Int32Array;
  readonly wordShift: number;
  /** Whether any form is long enough for word anchors: if not, the word loop is skipped. */
  readonly hasLong: boolean;
  readonly short: readonly ShortForms[];
  /** Bytes of the longest form: how far back a match can start from where it is recognised. */
  readonly maxLength: number;
  readonly size: number;
  /** A second filter, of confirmHash(anchor), for what passes the first (CONFIRM_MAX_LOG2). */
  readonly confirm: Int32Array;
  readonly confirmShift: number;
  private readonly matchers: readonly IssuedMatcher[];
  /**
   * Open addressing, key and value side by side: [anchor, ref] per slot, ref 0 = empty. A ref
   * above 0 is the one entry with that anchor (its code + 1); below 0, a list of them, at
   * shared[-ref - 1] (forms whose windows coincide, such as base64 and base64url without `+/`).
   */
  private readonly table: Int32Array;
  private readonly slotShift: number;
  /** A third filter, of gateHash(anchor), read before the table (GATE_MAX_LOG2). */
  private readonly gate: Int32Array;
  private readonly gateShift: number;
  private readonly shared: EntryCode[][] = [];

  constructor(matchers: readonly IssuedMatcher[]) {
    this.size = matchers.length;
    this.matchers = matchers;
    let maxLength = 0;
    let anchors = 0;
    for (const matcher of matchers) {
      maxLength = Math.max(maxLength, matcher.length);
      if (matcher.length >= LONG_FORM) anchors += matcher.anchors.length;
    }
    this.maxLength = maxLength;
    this.hasLong = anchors > 0;

    const wordsLog2 = this.hasLong ? WORDS_LOG2 : 1;
    this.wordShift = 32 - wordsLog2;
    this.filter = new Int32Array(2 ** wordsLog2);
    const confirmLog2 = Math.min(
      CONFIRM_MAX_LOG2,
      Math.max(CONFIRM_MIN_LOG2, Math.ceil(Math.log2(anchors + 1))),
    );
    this.confirmShift = 32 - confirmLog2;
    this.confirm = new Int32Array(2 ** confirmLog2);
    const gateLog2 = Math.min(
      GATE_MAX_LOG2,
      Math.max(CONFIRM_MIN_LOG2, Math.ceil(Math.log2(anchors + 1)) + 1),
    );
    this.gateShift = 32 - gateLog2;
    this.gate = new Int32Array(2 ** gateLog2);
    const slotsLog2 = Math.max(4, Math.ceil(Math.log2(anchors * 2 + 1)));
    this.slotShift = 32 - slotsLog2;
    this.table = new Int32Array(2 * 2 ** slotsLog2);

    // Filled straight from the matchers, without a Map or an object per anchor in between: the
    // scanner is built at every `latchkey scan`, in every worker and for every scan request.
    const short = new Map<number, Map<number, EntryCode[]>>();
    for (let index = 0; index < matchers.length; index++) {
      const matcher = matchers[index] as IssuedMatcher;
      const code = index * WORD_ANCHORS;
      if (matcher.length < LONG_FORM) {
        const groups = mapAt(short, matcher.length);
        const anchor = (matcher.anchors[0] as number) | 0;
        const group = groups.get(anchor);
        if (group) group.push(code);
        else groups.set(anchor, [code]);
        continue;
      }
      const { anchors: unsigned } = matcher;
      for (let tail = 0; tail < unsigned.length; tail++)
        this.add((unsigned[tail] as number) | 0, code + tail);
    }

    this.short = [...short].map(([length, groups]) => {
      const filter = new Int32Array(2 ** SHORT_WORDS_LOG2);
      for (const anchor of groups.keys()) addToFilter(filter, anchor, 32 - SHORT_WORDS_LOG2);
      return { length, outgoing: outgoingTable(length), filter, wordShift: 32 - SHORT_WORDS_LOG2, groups };
    });
  }

  private add(anchor: number, code: EntryCode): void {
    const table = this.table;
    const mask = table.length / 2 - 1;
    let slot = Math.imul(anchor, 0x85ebca6b) >>> this.slotShift;
    for (let ref = table[2 * slot + 1] as number; ref !== 0; ref = table[2 * slot + 1] as number) {
      if (table[2 * slot] === anchor) {
        if (ref > 0) {
          this.shared.push([ref - 1, code]);
          table[2 * slot + 1] = -this.shared.length;
        } else {
          this.shared[-ref - 1]?.push(code);
        }
        return;
      }
      slot = (slot + 1) & mask;
    }
    addToFilter(this.filter, anchor, this.wordShift);
    addToFilter(this.confirm, confirmHash(anchor), this.confirmShift);
    addToFilter(this.gate, gateHash(anchor), this.gateShift);
    table[2 * slot] = anchor;
    table[2 * slot + 1] = code + 1;
  }

  /** The codes of the long-form entries whose word anchor is `anchor` (as a signed 32-bit integer). */
  find(anchor: number): readonly EntryCode[] | undefined {
    const g = gateHash(anchor);
    const bits = filterMask(g);
    if (((this.gate[g >>> this.gateShift] as number) & bits) !== bits) return undefined;
    const table = this.table;
    const mask = table.length / 2 - 1;
    for (let slot = Math.imul(anchor, 0x85ebca6b) >>> this.slotShift; ; slot = (slot + 1) & mask) {
      const ref = table[2 * slot + 1] as number;
      if (ref === 0) return undefined;
      if (table[2 * slot] === anchor) return ref > 0 ? [ref - 1] : this.shared[-ref - 1];
    }
  }

  /** The matcher an entry code belongs to. */
  matcherOf(code: EntryCode): IssuedMatcher {
    return this.matchers[Math.floor(code / WORD_ANCHORS)] as IssuedMatcher;
  }
}

/** Bytes between the end of an entry's anchored window and the end of its form. */
export function tailOf(code: EntryCode): number {
  return code % WORD_ANCHORS;
}

function mapAt<K, V>(outer: Map<number, Map<K, V>>, key: number): Map<K, V> {
  let inner = outer.get(key);
  if (!inner) {
    inner = new Map();
    outer.set(key, inner);
  }
  return inner;
}

/** Odd, unrelated to the anchor's multipliers. */
export const CONFIRM_MULTIPLIER = 0x27d4eb2f;

/** The anchor remixed, so that the second filter's bits are not the first's. */
export function confirmHash(anchor: number): number {
  return Math.imul(anchor ^ (anchor >>> 16), CONFIRM_MULTIPLIER);
}

/** Odd, unrelated to the other multipliers. */
const GATE_MULTIPLIER = 0x165667b1;

/** The anchor remixed once more, so that the third filter's bits are neither of the others'. */
function gateHash(anchor: number): number {
  const h = Math.imul(anchor ^ (anchor >>> 13), GATE_MULTIPLIER);
  return h ^ (h >>> 16);
}

function addToFilter(filter: Int32Array, anchor: number, wordShift: number): void {
  const word = anchor >>> wordShift;
  filter[word] = (filter[word] as number) | filterMask(anchor);
}
