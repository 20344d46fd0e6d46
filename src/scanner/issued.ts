// The scanner's view of issued matchers: a blocked Bloom filter that rejects almost every input
// position with one memory access (the anchor's high bits pick a 32-bit word, two other bits of it
// must be set there; with 10,000 secrets about 0.3% of positions pass), and behind it an
// open-addressing table from the full anchor to the matchers that share it. The work per input
// byte is the same whether 10 or 10,000 secrets are loaded.

import { ANCHOR_WINDOW, outgoingTable } from "./anchor.js";
import type { IssuedMatcher } from "./matchers.js";

export interface IssuedEntry {
  readonly matcher: IssuedMatcher;
  readonly length: number;
  readonly digest: Buffer;
}

/** Matchers of forms shorter than ANCHOR_WINDOW, all of one length: anchored on the whole form. */
export interface ShortForms {
  readonly length: number;
  readonly outgoing: Int32Array;
  readonly filter: Int32Array;
  readonly wordShift: number;
  readonly groups: ReadonlyMap<number, readonly IssuedEntry[]>;
}

/**
 * The two bits `anchor` sets in its filter word: bits 6-10 and 11-15 of the anchor pick them
 * (a shift count is taken modulo 32), while the word comes from the top 16 bits.
 */
export function filterMask(anchor: number): number {
  return (1 << (anchor >>> 1)) | (1 << (anchor >>> 6)) | (1 << (anchor >>> 11));
}

/**
 * The filter has 2^16 words (256 KB, within a core's L2 cache) whatever the number of secrets:
 * the same cache footprint, so the same cost per byte, for 10 secrets or 10,000 (about 65,000
 * anchors, 32 bits each). Far beyond that it lets more positions through to the table.
 */
const WORDS_LOG2 = 16;
const SHORT_WORDS_LOG2 = 10;

export class IssuedIndex {
  /** `filter[anchor >>> wordShift]` has the bits of filterMask(anchor) set, for every long-form anchor. */
  readonly filter: Int32Array;
  readonly wordShift: number;
  readonly outgoing = outgoingTable(ANCHOR_WINDOW);
  readonly short: readonly ShortForms[];
  /** Bytes of the longest form: how far back a match can start from where it is recognised. */
  readonly maxLength: number;
  readonly size: number;
  /** Open addressing, key and value side by side: [anchor, group index + 1] per slot, 0 = empty. */
  private readonly table: Int32Array;
  private readonly slotShift: number;
  private readonly groups: IssuedEntry[][] = [];

  constructor(matchers: readonly IssuedMatcher[]) {
    this.size = matchers.length;
    const long = new Map<number, IssuedEntry[]>();
    const short = new Map<number, Map<number, IssuedEntry[]>>();
    let maxLength = 0;
    for (const matcher of matchers) {
      const entry = { matcher, length: matcher.length, digest: Buffer.from(matcher.digest, "hex") };
      const anchor = matcher.anchor | 0;
      const byAnchor = matcher.length >= ANCHOR_WINDOW ? long : mapAt(short, matcher.length);
      const group = byAnchor.get(anchor);
      if (group) group.push(entry);
      else byAnchor.set(anchor, [entry]);
      maxLength = Math.max(maxLength, matcher.length);
    }
    this.maxLength = maxLength;

    const wordsLog2 = long.size === 0 ? 1 : WORDS_LOG2;
    this.wordShift = 32 - wordsLog2;
    this.filter = new Int32Array(2 ** wordsLog2);

    const slotsLog2 = Math.max(4, Math.ceil(Math.log2(long.size * 2 + 1)));
    this.slotShift = 32 - slotsLog2;
    this.table = new Int32Array(2 * 2 ** slotsLog2);
    const mask = 2 ** slotsLog2 - 1;
    for (const [anchor, group] of long) {
      addToFilter(this.filter, anchor, this.wordShift);
      this.groups.push(group);
      let slot = Math.imul(anchor, 0x85ebca6b) >>> this.slotShift;
      while (this.table[2 * slot + 1] !== 0) slot = (slot + 1) & mask;
      this.table[2 * slot] = anchor;
      this.table[2 * slot + 1] = this.groups.length;
    }

    this.short = [...short].map(([length, groups]) => {
      const filter = new Int32Array(2 ** SHORT_WORDS_LOG2);
      for (const anchor of groups.keys()) addToFilter(filter, anchor, 32 - SHORT_WORDS_LOG2);
      return { length, outgoing: outgoingTable(length), filter, wordShift: 32 - SHORT_WORDS_LOG2, groups };
    });
  }

  /** The long-form matchers whose anchor is `anchor` (as a signed 32-bit integer). */
  find(anchor: number): readonly IssuedEntry[] | undefined {
    const table = this.table;
    const mask = table.length / 2 - 1;
    for (let slot = Math.imul(anchor, 0x85ebca6b) >>> this.slotShift; ; slot = (slot + 1) & mask) {
      const group = table[2 * slot + 1] as number;
      if (group === 0) return undefined;
      if (table[2 * slot] === anchor) return this.groups[group - 1];
    }
  }
}

function mapAt<K, V>(outer: Map<number, Map<K, V>>, key: number): Map<K, V> {
  let inner = outer.get(key);
  if (!inner) {
    inner = new Map();
    outer.set(key, inner);
  }
  return inner;
}

function addToFilter(filter: Int32Array, anchor: number, wordShift: number): void {
  const word = anchor >>> wordShift;
  filter[word] = (filter[word] as number) | filterMask(anchor);
}
