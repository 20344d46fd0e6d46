import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import { ANCHOR_WINDOW, PROBE_STRIDE, windowAnchor } from "../src/scanner/anchor.js";
import { createScanner } from "../src/scanner/engine.js";
import { IssuedIndex } from "../src/scanner/issued.js";
import { buildMatchers } from "../src/scanner/matchers.js";
import {
  buildXorFilter,
  MAX_PAGES,
  MIN_KEYS,
  PAGE_CELLS,
  type XorFilter,
  xorFilterHas,
} from "../src/scanner/xor-filter.js";
import { Rng, tokens } from "./scanner/tokens.js";

/** `count` distinct signed 32-bit anchors, the same for the same seed. */
function anchors(count: number, seed: number): Int32Array {
  const rng = new Rng(seed);
  const seen = new Set<number>();
  while (seen.size < count) seen.add(rng.next() | 0);
  return Int32Array.from(seen);
}

/**
 * Four anchors in the same block (top two bits) whose 10-bit fields pair up: each of their three
 * cells is shared by two of them (see the layout in xor-filter.ts).
 */
function pairedUp(rng: Rng): Int32Array {
  const field = () => rng.int(1024);
  const [block, x1, x2, y1, y2, z1, z2] = [rng.int(4), field(), field(), field(), field(), field(), field()];
  const anchor = (x: number, y: number, z: number) => (block << 30) | (x << 20) | (y << 10) | z;
  return Int32Array.of(anchor(x1, y1, z1), anchor(x1, y2, z2), anchor(x2, y1, z2), anchor(x2, y2, z1));
}

/** The share of `probes` anchors (fresh, so almost surely never added) that the filter lets through. */
function passRate(filter: XorFilter, probes: number, seed: number): number {
  const rng = new Rng(seed);
  let passed = 0;
  for (let i = 0; i < probes; i++) if (xorFilterHas(filter, rng.next() | 0)) passed++;
  return passed / probes;
}

describe("xor filter", () => {
  for (const size of [0, 1, 3, 5_000, 200_000]) {
    test(`passes every one of ${size} anchors it was built from`, () => {
      const added = anchors(size, size + 1);
      const filter = buildXorFilter(added);
      const missed = added.filter((anchor) => !xorFilterHas(filter, anchor));
      assert.equal(missed.length, 0);
    });
  }

  test("passes the anchors of issued secrets, in every encoding", () => {
    const rng = new Rng(11);
    const secrets = [tokens.githubClassic(rng, "ghs"), tokens.awsSecretKey(rng), tokens.jwt(rng)];
    const matchers = secrets.flatMap((secret, i) =>
      buildMatchers(secret, { credentialId: `cred_${i}`, sessionId: "s", provider: "jwt" }),
    );
    const long = matchers.flatMap((m) => m.anchors.map((anchor) => anchor | 0));
    const filter = new IssuedIndex(matchers).filter;
    assert.ok(long.length > 0);
    assert.deepEqual(
      long.filter((anchor) => !xorFilterHas(filter, anchor)),
      [],
    );
  });

  // What keeps 10,000 secrets from scanning slower than 1,000: an anchor that is not there gets
  // through as rarely with either (a Bloom filter of the same size: 0.06% against 4%).
  test("lets through one anchor in 256 that it was not built from, however many it holds", (t) => {
    // Measured with 8 million probes: 0.389% with 1,000 anchors, 0.401% with 480,000. A full
    // filter lets through a few percent more than 1/256, an almost empty one does not.
    const probes = 1_000_000;
    for (const size of [1_000, 48_000, 480_000]) {
      const rate = passRate(buildXorFilter(anchors(size, 7)), probes, 99);
      t.diagnostic(`${size} anchors: ${(rate * 100).toFixed(3)}% of other anchors let through`);
      assert.ok(Math.abs(rate * 256 - 1) < 0.15, `${size} anchors: ${rate} is not within 15% of 1/256`);
    }
  });

  test("has the same size up to MIN_KEYS anchors, and grows past it", () => {
    const small = buildXorFilter(anchors(10, 1));
    const full = buildXorFilter(anchors(MIN_KEYS, 2));
    const past = buildXorFilter(anchors(MIN_KEYS + 100_000, 3));
    assert.equal(small.pages, full.pages);
    assert.equal(small.cells.length, small.pages * PAGE_CELLS);
    assert.ok(past.pages > full.pages);
    assert.ok(past.cells.length >= (MIN_KEYS + 100_000) * 1.3, "at least 1.3 cells per anchor");
  });

  test("the same anchors always give the same filter", () => {
    const added = anchors(50_000, 5);
    const first = buildXorFilter(added);
    const second = buildXorFilter(added.slice());
    assert.equal(first.seed, second.seed);
    assert.deepEqual(first.cells, second.cells);
  });

  test("refuses anchors it cannot place, naming the likely cause", () => {
    // Two equal anchors share all three cells, so neither can ever be peeled off.
    assert.throws(() => buildXorFilter(Int32Array.of(5, 5)), {
      name: "Error",
      message: /no seed of 16 could place the anchors; are some alike\?/,
    });
  });

  test("refuses four anchors whose cells pair up in one page, which no seed can place", () => {
    // Each of their cells holds two of them, so none can be peeled off; with one page, every
    // seed puts them together.
    assert.throws(() => buildXorFilter(pairedUp(new Rng(4)), 0), /no seed of 16 could place the anchors/);
  });

  test("a seed that cannot place the anchors is followed by one that can", () => {
    // With two pages, a seed puts four paired-up anchors into one page one time in eight; the
    // next seed most likely separates them.
    const rng = new Rng(8);
    const firstSeed = buildXorFilter(Int32Array.of(1)).seed;
    for (let tries = 0; tries < 200; tries++) {
      const added = pairedUp(rng);
      const filter = buildXorFilter(added, 6_000);
      assert.equal(filter.pages, 2);
      if (filter.seed === firstSeed) continue;
      assert.deepEqual(
        [...added].filter((anchor) => !xorFilterHas(filter, anchor)),
        [],
      );
      return;
    }
    assert.fail("no set of anchors needed a second seed in 200 tries");
  });

  test("refuses more anchors than one filter holds", () => {
    assert.throws(() => buildXorFilter(new Int32Array(0), MAX_PAGES * PAGE_CELLS), {
      name: "RangeError",
      message: /are more than one filter holds/,
    });
  });

  // The word loop has the filter written out; a copy that drifted from xorFilterHas would let
  // through other positions (and miss issued secrets, which the corpus tests would catch).
  test("the word loop lets through exactly the windows xorFilterHas passes", async () => {
    const rng = new Rng(21);
    const matchers = Array.from({ length: 200 }, (_, i) =>
      buildMatchers(tokens.githubClassic(rng, "ghs"), {
        credentialId: `c${i}`,
        sessionId: "s",
        provider: "github",
      }),
    ).flat();
    const { filter } = new IssuedIndex(matchers);
    const input = randomBytes(256 * 1024);
    // The scanner probes the window ending at every multiple of PROBE_STRIDE, the stream preceded
    // by zeros.
    const padded = Buffer.concat([Buffer.alloc(ANCHOR_WINDOW), input]);
    let expected = 0;
    for (let end = PROBE_STRIDE; end <= input.length; end += PROBE_STRIDE) {
      if (xorFilterHas(filter, windowAnchor(padded, end) | 0)) expected++;
    }
    const { stats } = await createScanner({ matchers, rules: [] }).scan(input);
    assert.ok(expected > 0);
    assert.equal(stats.anchorHits, expected);
  });
});
