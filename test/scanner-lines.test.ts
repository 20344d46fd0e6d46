import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { advance, countNewlines } from "../src/scanner/lines.js";

/** The text's bytes in a word-aligned buffer, with the word view the scanner keeps beside it. */
function windowOf(text: string | Uint8Array): { bytes: Uint8Array; words: Int32Array } {
  const source = typeof text === "string" ? Buffer.from(text, "utf8") : text;
  const memory = new ArrayBuffer(4 * Math.ceil(source.length / 4) + 4);
  const bytes = new Uint8Array(memory, 0, source.length);
  bytes.set(source);
  return { bytes, words: new Int32Array(memory) };
}

function naiveCount(bytes: Uint8Array, from: number, to: number): number {
  let count = 0;
  for (let i = from; i < to; i++) if (bytes[i] === 0x0a) count++;
  return count;
}

describe("countNewlines", () => {
  test("agrees with a byte-by-byte count for every start and end, in every byte lane", () => {
    // Newlines in each of a word's four lanes, beside bytes that differ from one in a bit or two
    // (0x0b, 0x08, 0x1a) or only in the top bit (0x8a), which a word-wise test could mistake.
    const { bytes, words } = windowOf(
      Uint8Array.from([
        0x0a, 0x41, 0x8a, 0x0b, 0x41, 0x0a, 0x08, 0x1a, 0x41, 0x41, 0x0a, 0x0a, 0x8a, 0x41, 0x41, 0x0a, 0x0a,
        0x0a, 0x0a, 0x0a, 0x00, 0xff, 0x7f, 0x80, 0xe2, 0x86, 0x92, 0x0a, 0x41, 0x0a, 0x41, 0x41, 0x0a, 0x41,
        0x41, 0x41,
        // A newline right below a 0x0b byte (\n\v) in one aligned word, and twice in the next:
        // the usual zero-byte test, (x - 0x01010101) & ~x & 0x80808080, counts the 0x0b too.
        0x41, 0x41, 0x0a, 0x0b, 0x0a, 0x0b, 0x0a, 0x0b,
      ]),
    );
    for (let from = 0; from <= bytes.length; from++) {
      for (let to = from; to <= bytes.length; to++) {
        assert.equal(countNewlines(bytes, words, from, to), naiveCount(bytes, from, to), `${from}..${to}`);
      }
    }
  });

  test("counts runs longer than one block of words without a lane overflowing", () => {
    for (const length of [1019, 1020, 1021, 4 * 255 * 3 + 7, 100_000]) {
      const { bytes, words } = windowOf("\n".repeat(length));
      for (const from of [0, 1, 3]) {
        assert.equal(countNewlines(bytes, words, from, length), length - from, `${length} from ${from}`);
      }
    }
  });
});

describe("advance", () => {
  const start = { abs: 0, line: 0, column: 0 };
  // `before`: bytes in the buffer ahead of `from`, which must not be counted.
  const cases: {
    name: string;
    before?: string;
    text: string;
    from?: typeof start;
    base?: number;
    expected: typeof start;
  }[] = [
    { name: "no newline: the column goes on", text: "abc", expected: { abs: 3, line: 0, column: 3 } },
    {
      name: "no newline, from a point inside a line",
      before: "\n\n",
      text: "de",
      from: { abs: 12, line: 4, column: 7 },
      base: 10,
      expected: { abs: 14, line: 4, column: 9 },
    },
    { name: "the column counts code points", text: "a\nü→x", expected: { abs: 8, line: 1, column: 3 } },
    {
      name: "a newline at the end leaves column 0",
      text: "ab\ncd\n",
      expected: { abs: 6, line: 2, column: 0 },
    },
    {
      name: "CRLF: the CR belongs to the line before",
      text: "ab\r\ncd",
      expected: { abs: 6, line: 1, column: 2 },
    },
    {
      name: "from a later point, counted only from there",
      before: "a\nb",
      text: "xx\nyy\nzzzz",
      from: { abs: 103, line: 9, column: 1 },
      base: 100,
      expected: { abs: 113, line: 11, column: 4 },
    },
  ];
  for (const { name, before = "", text, from = start, base = 0, expected } of cases) {
    test(name, () => {
      assert.equal(Buffer.byteLength(before), from.abs - base, "the case's `before` ends at `from`");
      const { bytes, words } = windowOf(before + text);
      assert.deepEqual(advance(from, base + bytes.length, bytes, words, base), expected);
    });
  }
});
