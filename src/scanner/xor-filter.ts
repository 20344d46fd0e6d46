// The word loop's first look at an anchor: an xor filter (Graf and Lemire, "Xor Filters: Faster
// and Smaller Than Bloom and Cuckoo Filters", 2020) of 8-bit fingerprints whose three cells lie in
// one 4 KB page of memory. An anchor is let through when its three cells XOR to its fingerprint.
// One that was never added gets through with probability 1/256 however many were added, where a
// Bloom filter of fixed size lets through a share that grows with what it holds (a 512 KB one:
// about 4% with 10,000 secrets, 0.06% with 1,000). Each anchor let through costs the loop a
// mispredicted branch and a look-up further on; with a Bloom filter, that share made 10,000
// secrets scan a tenth slower than 1,000.
//
// The filter never has fewer pages than MIN_KEYS anchors need (about 655 KB, enough for some
// 10,000 secrets), so that up to there its size in cache, like its pass rate, is the same for 10
// secrets or 10,000. Past it, it grows with the anchors.
//
//   u        = the anchor before its last step (anchor.ts: anchor = u ^ (u >>> 15))
//   page     = (((u ^ seed) · F0 mod 2^32) >>> 13) · pages >>> 19
//   block    = anchor >>> 30            (each page is four blocks of 1,024 cells)
//   cells    = page · 4096 + (block << 10 | (anchor >>> 20) & 1023),
//              page · 4096 + ((block ^ 1) << 10 | (anchor >>> 10) & 1023),
//              page · 4096 + ((block ^ 2) << 10 | anchor & 1023)
//   fingerprint = (u · F1 mod 2^32) >>> 24
//
// The cells are the anchor's own bits, laid out so that no two anchors share all three (two that
// did could never be placed); the page is what a new seed changes. The page comes from u, not
// from the anchor: a page hash linear in the anchor put anchors with a1 + a4 = a2 + a3 into one
// page far more often than chance, and four whose bits pair up share every cell they use (with 8
// million random anchors, one page in 2,000 could not be placed, however roomy). The word loop
// has u at hand, so this costs it nothing.
//
// One page per probe: with the three cells 4 KB apart (a binary fuse filter's segments), the word
// loop measured 5-10% slower, from the extra look-ups in the page tables. The price is room: each
// page is placed on its own, which takes about 1.35 cells per anchor where a binary fuse filter
// takes 1.14. And room counts too: the loop slowed by a tenth when the filter grew from 655 to
// 710 KB (on a machine with 1 MB of L2 cache per core).
//
// The word loop (engine.ts) has this written out; xorFilterHas is the reference.

/** Cells per page, and per block. */
export const PAGE_CELLS = 4096;
const BLOCK_CELLS = 1024;
/** Odd, unrelated to the anchor's multipliers: for the page, and for the fingerprint. */
export const XOR_FILTER_MULTIPLIERS = [0x2545f491 | 0, 0x9e3779b9 | 0] as const;
/**
 * Cells per anchor. Each page is a random 3-hypergraph of 4,096 cells, placed on its own; of the
 * pages of filters for 8 to 12 million random anchors, one in 550 could not be placed at 1.3, one
 * in about 20,000 at 1.35 (1 of 19,779).
 */
const SIZE_FACTOR = 1.35;
/**
 * Anchors the filter always has room for: about 10,000 secrets of the kinds Latchkey issues
 * (each has 40 to 50 anchors: 8 for each encoded form). 160 pages, 655 KB.
 */
export const MIN_KEYS = 485_000;
/**
 * So that `(m >>> 13) · pages` stays below 2^32, and each page gets at least 64 values of it:
 * about 24 million anchors, some 500,000 secrets. At this size one seed in three may fail (see
 * SIZE_FACTOR), and MAX_ATTEMPTS seeds are tried.
 */
export const MAX_PAGES = 2 ** 13 - 1;
/** Seeds tried before giving up. */
const MAX_ATTEMPTS = 16;

export interface XorFilter {
  /** pages · PAGE_CELLS cells. */
  readonly cells: Uint8Array;
  readonly pages: number;
  readonly seed: number;
}

/** The word loop's window hash before its last step: the inverse of u ^ (u >>> 15). */
export function unmixedAnchor(anchor: number): number {
  return anchor ^ (anchor >>> 15) ^ (anchor >>> 30);
}

/** The first cell of `anchor`'s page under `seed` (see the header). */
function pageBase(anchor: number, seed: number, pages: number): number {
  const m = Math.imul(unmixedAnchor(anchor) ^ seed, XOR_FILTER_MULTIPLIERS[0]);
  return (Math.imul(m >>> 13, pages) >>> 19) * PAGE_CELLS;
}

/** Whether `anchor` (a signed 32-bit integer) passes the filter: always, if it was added. */
export function xorFilterHas({ cells, pages, seed }: XorFilter, anchor: number): boolean {
  const base = pageBase(anchor, seed, pages);
  const block = (anchor >>> 20) & 0xc00;
  const xor =
    (cells[base + (anchor >>> 20)] as number) ^
    (cells[base + ((block ^ BLOCK_CELLS) | ((anchor >>> 10) & (BLOCK_CELLS - 1)))] as number) ^
    (cells[base + ((block ^ (2 * BLOCK_CELLS)) | (anchor & (BLOCK_CELLS - 1)))] as number);
  return xor === Math.imul(unmixedAnchor(anchor), XOR_FILTER_MULTIPLIERS[1]) >>> 24;
}

/**
 * A filter that passes every one of `anchors` (signed 32-bit integers, no two alike) and, of any
 * other anchor, one in 256. `minKeys` sets the size below which it does not shrink.
 */
export function buildXorFilter(anchors: Int32Array, minKeys = MIN_KEYS): XorFilter {
  const pages = Math.max(1, Math.ceil((Math.max(anchors.length, minKeys) * SIZE_FACTOR) / PAGE_CELLS));
  if (pages > MAX_PAGES) {
    const most = Math.floor((MAX_PAGES * PAGE_CELLS) / SIZE_FACTOR);
    throw new RangeError(
      `buildXorFilter: ${anchors.length} anchors are more than one filter holds (${most})`,
    );
  }
  const peeling = new Peeling(pages, anchors.length);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    // Seeds from a fixed sequence: the same anchors always give the same filter.
    const seed = Math.imul(attempt + 1, 0x61c88647);
    const cells = peeling.run(anchors, seed);
    if (cells) return { cells, pages, seed };
  }
  throw new Error(`buildXorFilter: no seed of ${MAX_ATTEMPTS} could place the anchors; are some alike?`);
}

/** The construction's working arrays, reused from one seed to the next. */
class Peeling {
  private readonly count: Int32Array;
  /** The XOR of the anchors of each cell: the anchor itself once one is left. */
  private readonly owner: Int32Array;
  /**
   * Cells with one anchor left, to peel: those that start with one, and those whose count falls
   * to one. A cell is queued once at most.
   */
  private readonly queue: Int32Array;
  /** The seed of the last attempt, whose cells are to be cleared before the next (fresh arrays are zero). */
  private used: number | undefined;
  /** Anchors in the order they were peeled, and the cell each was peeled from. */
  private readonly order: Int32Array;
  private readonly orderCell: Int32Array;
  /** The three cells of the anchor last passed to cellsOf. */
  private c0 = 0;
  private c1 = 0;
  private c2 = 0;

  constructor(
    private readonly pages: number,
    keys: number,
  ) {
    const length = pages * PAGE_CELLS;
    this.count = new Int32Array(length);
    this.owner = new Int32Array(length);
    this.queue = new Int32Array(length);
    this.order = new Int32Array(keys);
    this.orderCell = new Int32Array(keys);
  }

  /** The cells of a filter with this seed, or undefined if the anchors cannot all be peeled. */
  run(anchors: Int32Array, seed: number): Uint8Array | undefined {
    const { count, owner, queue, order, orderCell } = this;
    if (this.used !== undefined) this.clear(anchors, this.used);
    this.used = seed;
    for (let i = 0; i < anchors.length; i++) {
      const anchor = anchors[i] as number;
      this.cellsOf(anchor, seed);
      this.enter(this.c0, anchor);
      this.enter(this.c1, anchor);
      this.enter(this.c2, anchor);
    }
    let queued = 0;
    if (8 * 3 * anchors.length < count.length) {
      // Few anchors in many cells (a filter for one session's credentials): look only at theirs.
      // A cell with one anchor is one of that anchor's cells and of no other's: queued once.
      for (let i = 0; i < anchors.length; i++) {
        this.cellsOf(anchors[i] as number, seed);
        if (count[this.c0] === 1) queue[queued++] = this.c0;
        if (count[this.c1] === 1) queue[queued++] = this.c1;
        if (count[this.c2] === 1) queue[queued++] = this.c2;
      }
    } else {
      for (let cell = 0; cell < count.length; cell++) if (count[cell] === 1) queue[queued++] = cell;
    }
    let peeled = 0;
    while (queued > 0) {
      const cell = queue[--queued] as number;
      if (count[cell] !== 1) continue;
      const anchor = owner[cell] as number;
      order[peeled] = anchor;
      orderCell[peeled++] = cell;
      this.cellsOf(anchor, seed);
      queued = this.leave(this.c0, anchor, queued);
      queued = this.leave(this.c1, anchor, queued);
      queued = this.leave(this.c2, anchor, queued);
    }
    if (peeled !== anchors.length) return undefined;
    // Filled in the reverse order of peeling: when an anchor's cell is set, its other two hold
    // what they will keep, since every anchor peeled before it (filled after it) has its own
    // cell, which this anchor does not use.
    const cells = new Uint8Array(this.pages * PAGE_CELLS);
    for (let i = peeled - 1; i >= 0; i--) {
      const anchor = order[i] as number;
      this.cellsOf(anchor, seed);
      const fingerprint = Math.imul(unmixedAnchor(anchor), XOR_FILTER_MULTIPLIERS[1]) >>> 24;
      cells[orderCell[i] as number] =
        fingerprint ^ (cells[this.c0] as number) ^ (cells[this.c1] as number) ^ (cells[this.c2] as number);
    }
    return cells;
  }

  /** Zeroes the cells `anchors` use under `seed`. */
  private clear(anchors: Int32Array, seed: number): void {
    for (let i = 0; i < anchors.length; i++) {
      this.cellsOf(anchors[i] as number, seed);
      this.count[this.c0] = this.count[this.c1] = this.count[this.c2] = 0;
      this.owner[this.c0] = this.owner[this.c1] = this.owner[this.c2] = 0;
    }
  }

  private enter(cell: number, anchor: number): void {
    this.count[cell] = (this.count[cell] as number) + 1;
    this.owner[cell] = (this.owner[cell] as number) ^ anchor;
  }

  /** Takes `anchor` out of `cell`, queueing the cell if one is left there; returns the queue's length. */
  private leave(cell: number, anchor: number, queued: number): number {
    const left = (this.count[cell] as number) - 1;
    this.count[cell] = left;
    this.owner[cell] = (this.owner[cell] as number) ^ anchor;
    if (left !== 1) return queued;
    this.queue[queued] = cell;
    return queued + 1;
  }

  /** Sets c0, c1 and c2 to the cells of `anchor` under `seed` (see the header). */
  private cellsOf(anchor: number, seed: number): void {
    const base = pageBase(anchor, seed, this.pages);
    const block = (anchor >>> 20) & 0xc00;
    this.c0 = base + (anchor >>> 20);
    this.c1 = base + ((block ^ BLOCK_CELLS) | ((anchor >>> 10) & (BLOCK_CELLS - 1)));
    this.c2 = base + ((block ^ (2 * BLOCK_CELLS)) | (anchor & (BLOCK_CELLS - 1)));
  }
}
