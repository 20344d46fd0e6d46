// The scanner's view of issued matchers: an xor filter (xor-filter.ts) that lets through one
// anchor in 256 that no form has, whether 10 or 10,000 secrets are loaded; a Bloom filter read
// only for what passes it; and behind them an open-addressing table from the full anchor to the
// matchers that share it. The work per input byte is the same for 10 secrets or 10,000 (past
// that, the xor filter grows; see MIN_KEYS).

import { LONG_FORM, outgoingTable, WORD_ANCHORS } from "./anchor.js";
import type { IssuedMatcher } from "./matchers.js";
import { buildXorFilter, type XorFilter } from "./xor-filter.js";

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

const SHORT_WORDS_LOG2 = 10;
const GATE_MIN_LOG2 = 4;
/**
 * A Bloom filter guards the table: what the xor filter lets through (about 5,000 probes per 10 MB)
 * would otherwise each cost the table a read from memory, as its 8 MB with 10,000 secrets rarely
 * stay in cache. Read outside the word loop, at 2^17 words it turns away all but about one in 25
 * of them with 10,000 secrets.
 */
const GATE_MAX_LOG2 = 17;

export class IssuedIndex {
  /** Passes the word anchor of every long form, and one in 256 of other anchors. */
  readonly filter: XorFilter;
  /** Whether any form is long enough for word anchors: if not, the word loop is skipped. */
  readonly hasLong: boolean;
  readonly short: readonly ShortForms[];
  /** Bytes of the longest form: how far back a match can start from where it is recognised. */
  readonly maxLength: number;
  readonly size: number;
  private readonly matchers: readonly IssuedMatcher[];
  /**
   * Open addressing, key and value side by side: [anchor, ref] per slot, ref 0 = empty. A ref
   * above 0 is the one entry with that anchor (its code + 1); below 0, a list of them, at
   * shared[-ref - 1] (forms whose windows coincide, such as base64 and base64url without `+/`).
   */
  private readonly table: Int32Array;
  private readonly slotShift: number;
  /** The gate: a Bloom filter of gateHash(anchor), read before the table (GATE_MAX_LOG2). */
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

    const gateLog2 = Math.min(GATE_MAX_LOG2, Math.max(GATE_MIN_LOG2, Math.ceil(Math.log2(anchors + 1)) + 1));
    this.gateShift = 32 - gateLog2;
    this.gate = new Int32Array(2 ** gateLog2);
    const slotsLog2 = Math.max(4, Math.ceil(Math.log2(anchors * 2 + 1)));
    this.slotShift = 32 - slotsLog2;
    this.table = new Int32Array(2 * 2 ** slotsLog2);

    // Filled straight from the matchers, without a Map or an object per anchor in between: the
    // scanner is built at every `latchkey scan`, in every worker and for every scan request.
    const short = new Map<number, Map<number, EntryCode[]>>();
    // The xor filter is built from each word anchor once.
    const distinct = new Int32Array(anchors);
    let distinctCount = 0;
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
      for (let tail = 0; tail < unsigned.length; tail++) {
        const anchor = (unsigned[tail] as number) | 0;
        if (this.add(anchor, code + tail)) distinct[distinctCount++] = anchor;
      }
    }
    // With no long form the word loop does not probe: the smallest filter will do.
    this.filter = buildXorFilter(distinct.subarray(0, distinctCount), this.hasLong ? undefined : 0);

    this.short = [...short].map(([length, groups]) => {
      const filter = new Int32Array(2 ** SHORT_WORDS_LOG2);
      for (const anchor of groups.keys()) addToFilter(filter, anchor, 32 - SHORT_WORDS_LOG2);
      return { length, outgoing: outgoingTable(length), filter, wordShift: 32 - SHORT_WORDS_LOG2, groups };
    });
  }

  /** Enters a long form's anchor; whether no form had it yet. */
  private add(anchor: number, code: EntryCode): boolean {
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
        return false;
      }
      slot = (slot + 1) & mask;
    }
    addToFilter(this.gate, gateHash(anchor), this.gateShift);
    table[2 * slot] = anchor;
    table[2 * slot + 1] = code + 1;
    return true;
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

/** Odd, unrelated to the other multipliers. */
const GATE_MULTIPLIER = 0x165667b1;

/** The anchor remixed, so that the gate's bits are not the xor filter's. */
function gateHash(anchor: number): number {
  const h = Math.imul(anchor ^ (anchor >>> 13), GATE_MULTIPLIER);
  return h ^ (h >>> 16);
}

function addToFilter(filter: Int32Array, anchor: number, wordShift: number): void {
  const word = anchor >>> wordShift;
  filter[word] = (filter[word] as number) | filterMask(anchor);
}
