import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Writable } from "node:stream";
import { describe, test } from "node:test";
import {
  ANCHOR_WINDOW,
  anchorHash,
  LONG_FORM,
  PROBE_STRIDE,
  WORD_ANCHORS,
  windowAnchor,
  wordAnchors,
} from "../src/scanner/anchor.js";
import { createScanner, primeWordLoop } from "../src/scanner/engine.js";
import type { Finding } from "../src/scanner/finding.js";
import { buildMatchers, encodedForms, issuedMatcherSchema } from "../src/scanner/matchers.js";
import { defaultRules, type Rule } from "../src/scanner/rules/index.js";
import { buildCorpus, type Planted } from "./scanner/corpus.js";
import { chunksOf, cutAt, key, Sink, streamed } from "./scanner/support.js";
import { Rng, tokens } from "./scanner/tokens.js";

const sha256 = (value: string | Uint8Array) => createHash("sha256").update(value).digest("hex");
const ref = { credentialId: "cred_1", sessionId: "sess-1", provider: "github" };

function overlaps(finding: Finding, planted: Planted): boolean {
  return finding.offset < planted.end && planted.start < finding.offset + finding.length;
}

describe("labelled corpus", () => {
  const corpus = buildCorpus(20261127);
  const scanner = createScanner({ matchers: corpus.matchers });
  const issued = corpus.planted.filter((p) => p.ruleId === "latchkey-issued");
  const generic = corpus.planted.filter((p) => p.ruleId !== "latchkey-issued");
  const middles = corpus.planted.map((p) => p.start + Math.floor((p.end - p.start) / 2));
  const chunkings: Array<[string, Uint8Array[]]> = [
    ["whole", [corpus.bytes]],
    ["4096-byte chunks", chunksOf(corpus.bytes, 4096)],
    ["7-byte chunks", chunksOf(corpus.bytes, 7)],
    ["1-byte chunks", chunksOf(corpus.bytes, 1)],
    ["cut inside every secret", cutAt(corpus.bytes, middles)],
    [
      "cut one byte into and out of every secret",
      cutAt(
        corpus.bytes,
        corpus.planted.flatMap((p) => [p.start + 1, p.end - 1]),
      ),
    ],
  ];
  const results = new Map<string, Finding[]>();

  for (const [name, chunks] of chunkings) {
    test(`finds every issued secret in every encoding: ${name}`, async () => {
      const { findings, bytes } = await scanner.scan(streamed(chunks));
      assert.equal(bytes, corpus.bytes.length);
      results.set(name, findings);
      const missed = issued.filter(
        (p) =>
          !findings.some(
            (f) =>
              f.ruleId === "latchkey-issued" &&
              f.credentialId === p.credentialId &&
              f.offset === p.start &&
              f.length === p.end - p.start,
          ),
      );
      assert.deepEqual(
        missed.map((p) => p.label),
        [],
      );
    });
  }

  test("reports the same findings whatever the chunking", () => {
    const expected = (results.get("whole") ?? []).map(key);
    assert.ok(expected.length > 0);
    for (const [name] of chunkings) assert.deepEqual((results.get(name) ?? []).map(key), expected, name);
  });

  test("recall on generic rules at least 95%, precision at least 95%", (t) => {
    const findings = results.get("whole") ?? [];
    const rows = new Map<string, { planted: number; found: number; falsePositives: number }>();
    const row = (ruleId: string) => {
      let r = rows.get(ruleId);
      if (!r) {
        r = { planted: 0, found: 0, falsePositives: 0 };
        rows.set(ruleId, r);
      }
      return r;
    };
    for (const p of corpus.planted) {
      const r = row(p.ruleId);
      r.planted++;
      if (findings.some((f) => f.ruleId === p.ruleId && overlaps(f, p))) r.found++;
    }
    // A finding is right only where a secret of its own rule was planted: one that names the
    // wrong rule for a planted secret counts against precision too.
    const rightful = (f: Finding) => corpus.planted.some((p) => p.ruleId === f.ruleId && overlaps(f, p));
    for (const f of findings) {
      if (!rightful(f)) row(f.ruleId).falsePositives++;
    }
    t.diagnostic(
      `corpus: ${corpus.bytes.length} bytes, ${corpus.planted.length} planted, ${corpus.decoys} decoys`,
    );
    t.diagnostic(
      `${"rule".padEnd(24)} ${"planted".padStart(7)} ${"found".padStart(6)} ${"false+".padStart(6)}`,
    );
    for (const [ruleId, r] of [...rows].sort()) {
      t.diagnostic(
        `${ruleId.padEnd(24)} ${String(r.planted).padStart(7)} ${String(r.found).padStart(6)} ${String(r.falsePositives).padStart(6)}`,
      );
    }
    const genericFound = generic.filter((p) =>
      findings.some((f) => f.ruleId === p.ruleId && overlaps(f, p)),
    ).length;
    const truePositives = findings.filter(rightful).length;
    const recall = genericFound / generic.length;
    const precision = truePositives / findings.length;
    t.diagnostic(`generic recall ${(100 * recall).toFixed(1)}%, precision ${(100 * precision).toFixed(1)}%`);
    assert.ok(recall >= 0.95, `generic recall ${recall}`);
    assert.ok(precision >= 0.95, `precision ${precision}`);
    for (const rule of defaultRules)
      assert.ok((rows.get(rule.id)?.planted ?? 0) > 0, `${rule.id} is planted`);
  });

  test("no finding carries a planted secret", () => {
    const serialized = JSON.stringify(results.get("whole"));
    for (const p of corpus.planted) assert.ok(!serialized.includes(p.text), p.label);
    for (const item of corpus.issued) assert.ok(!serialized.includes(item.secret), item.kind);
  });
});

describe("matchers", () => {
  test("one matcher per distinct form, anchored on the 16-byte windows at the form's end", () => {
    const secret = tokens.githubClassic(new Rng(1), "ghs");
    const matchers = buildMatchers(secret, ref);
    const forms = encodedForms(secret);
    assert.equal(matchers.length, forms.length);
    const base64 = forms.filter((f) => f.encoding === "base64");
    assert.equal(forms[0]?.encoding, "raw");
    assert.equal(base64.length, 3);
    assert.equal(
      forms.filter((f) => f.encoding === "base64url").length,
      base64.filter((f) => /[+/]/.test(f.text)).length,
    );
    assert.deepEqual(
      forms.filter((f) => f.encoding === "hex").map((f) => f.variant),
      [0, 1],
    );
    assert.ok(!forms.some((f) => f.encoding === "url" || f.encoding === "json"));
    for (const [i, matcher] of matchers.entries()) {
      const form = Buffer.from((forms[i] as { text: string }).text);
      assert.equal(matcher.length, form.length);
      assert.equal(matcher.digest, sha256(form));
      assert.deepEqual(matcher.anchors, wordAnchors(form));
      assert.equal(matcher.anchors.length, WORD_ANCHORS);
      assert.equal(matcher.anchors[7], windowAnchor(form, form.length - ANCHOR_WINDOW - 7));
      assert.equal(matcher.fingerprint, sha256(secret));
      assert.equal(matcher.credentialId, "cred_1");
      assert.deepEqual(issuedMatcherSchema.parse(JSON.parse(JSON.stringify(matcher))), matcher);
    }
    assert.ok(!JSON.stringify(matchers).includes(secret.slice(4, 20)));
  });

  test("alignment forms drop the characters that depend on neighbouring bytes", () => {
    const secret = "0123456789abcdefghij";
    for (let alignment = 0; alignment < 3; alignment++) {
      const form = encodedForms(secret).find((f) => f.encoding === "base64" && f.variant === alignment);
      assert.ok(form);
      for (const neighbours of [0x00, 0xff]) {
        const blob = Buffer.concat([
          Buffer.alloc(3 + alignment, neighbours),
          Buffer.from(secret),
          Buffer.alloc(5, neighbours),
        ]);
        assert.ok(blob.toString("base64").includes(form.text), `alignment ${alignment}`);
      }
    }
  });

  test("URL and JSON variants only where they differ", () => {
    const special = `a b/c"d<é>&+${"x".repeat(12)}`;
    const forms = encodedForms(special);
    const of = (encoding: string) => forms.filter((f) => f.encoding === encoding).map((f) => f.text);
    assert.deepEqual(of("url"), [
      encodeURIComponent(special),
      `a+b%2Fc%22d%3C%C3%A9%3E%26%2B${"x".repeat(12)}`,
    ]);
    assert.deepEqual(of("json"), [
      'a b/c\\"d<é>&+xxxxxxxxxxxx',
      'a b\\/c\\"d<é>&+xxxxxxxxxxxx',
      'a b/c\\"d\\u003c\\u00e9\\u003e\\u0026+xxxxxxxxxxxx',
      'a b\\/c\\"d\\u003c\\u00e9\\u003e\\u0026+xxxxxxxxxxxx',
    ]);
    const plain = encodedForms("AbCdEfGhIjKlMnOpQrStUvWx1234");
    assert.ok(!plain.some((f) => f.encoding === "url" || f.encoding === "json"));
  });

  test("a JWT's anchor comes from its signature, not its constant header", () => {
    const rng = new Rng(2);
    const header = { alg: "ES256", typ: "at+jwt", kid: "k1" };
    const a = buildMatchers(tokens.jwt(rng, header), ref)[0];
    const b = buildMatchers(tokens.jwt(rng, header), ref)[0];
    assert.notDeepEqual(a?.anchors, b?.anchors);
  });

  test("the schema refuses malformed matchers", () => {
    const [matcher] = buildMatchers("some-secret-value-12345678", ref);
    assert.ok(matcher && matcher.length >= LONG_FORM);
    const anchors = (first: number) => [first, ...Array<number>(WORD_ANCHORS - 1).fill(0)];
    assert.equal(issuedMatcherSchema.safeParse({ ...matcher, anchors: anchors(0) }).success, true);
    for (const bad of [
      { ...matcher, digest: "XYZ" },
      { ...matcher, anchors: anchors(-1) },
      { ...matcher, anchors: anchors(2 ** 32) },
      { ...matcher, anchors: [0] },
      // The earlier scheme's 4 anchors per form, probed every 4 bytes: refused, not misread.
      { ...matcher, anchors: [0, 0, 0, 0] },
      { ...matcher, length: LONG_FORM - 1 },
      { ...matcher, anchors: undefined, anchor: 0 },
      { ...matcher, encoding: "rot13" },
      { ...matcher, length: 0 },
      { ...matcher, credentialId: undefined },
    ]) {
      assert.equal(issuedMatcherSchema.safeParse(bad).success, false, JSON.stringify(bad));
    }
    assert.throws(() => buildMatchers("", ref), TypeError);
  });
});

describe("issued secrets at scale", () => {
  const rng = new Rng(3);
  const secrets = Array.from({ length: 10_000 }, (_, i) =>
    i % 3 === 0 ? tokens.awsSecretKey(rng) : tokens.githubClassic(rng, "ghs"),
  );
  const matchers = secrets.flatMap((secret, i) =>
    buildMatchers(secret, { credentialId: `cred_${i}`, sessionId: "sess-scale", provider: "github" }),
  );
  // Seeded, so that the pass rates compared below are the same from run to run.
  const input = Buffer.from(Uint32Array.from({ length: (2 * 1024 * 1024) / 4 }, () => rng.next()).buffer);

  test("10,000 secrets cost no more work per byte than 1,000: as many probes get through, and none reaches SHA-256", async (t) => {
    const few = createScanner({
      matchers: matchers.filter((m) => Number(m.credentialId.slice(5)) < 1000),
      rules: [],
    });
    const many = createScanner({ matchers, rules: [] });
    const a = await few.scan(input);
    const b = await many.scan(input);
    t.diagnostic(`1,000 secrets: ${JSON.stringify(a.stats)}; 10,000 secrets: ${JSON.stringify(b.stats)}`);
    // Every 8 bytes cost one window hash and one probe of a filter whose size is the same for
    // both; what is left to vary is how often a probe gets through it, and that must not: about
    // one in 256 either way (4 standard deviations of the difference allowed).
    const probes = input.length / PROBE_STRIDE;
    const spread = 4 * Math.sqrt((2 * (1 / 256)) / probes);
    assert.ok(
      Math.abs(a.stats.anchorHits - b.stats.anchorHits) / probes < spread,
      `probes let through: ${a.stats.anchorHits} with 1,000 secrets, ${b.stats.anchorHits} with 10,000`,
    );
    for (const result of [a, b]) {
      assert.equal(result.findings.length, 0);
      assert.ok(result.stats.anchorHits / probes < 0.006, "the filter lets through about 1 probe in 256");
      // A window whose anchor matches a form's by chance (one probe in 9,000 with 10,000 secrets)
      // is turned away by a second window of the form before any SHA-256.
      assert.equal(result.stats.verifications, 0, "no SHA-256 runs on random input");
    }
  });

  test("and still find each of them", async () => {
    const picked = [17, 4321, 9999];
    const scanner = createScanner({ matchers, rules: [] });
    const planted = picked.map((i) => secrets[i]).join(" ");
    const text = Buffer.concat([
      input.subarray(0, 1000),
      Buffer.from(` ${planted} `),
      input.subarray(1000, 2000),
    ]);
    const { findings } = await scanner.scan(text);
    assert.deepEqual(
      findings.map((f) => f.credentialId),
      picked.map((i) => `cred_${i}`),
    );
  });
});

describe("engine", () => {
  test("line and column count code points, across chunks and CRLF", async () => {
    const token = tokens.githubClassic(new Rng(4));
    const text = `first line\r\nsecond ünïcödé → ${token}\nthird`;
    const scanner = createScanner();
    for (const size of [1, 3, 1000]) {
      const { findings } = await scanner.scan(streamed(chunksOf(Buffer.from(text), size)), {
        path: "out.log",
      });
      assert.equal(findings.length, 1);
      const [finding] = findings;
      assert.equal(finding?.line, 2);
      assert.equal(finding?.column, "second ünïcödé → ".length + 1);
      assert.equal(finding?.offset, Buffer.byteLength(text.slice(0, text.indexOf(token))));
      assert.equal(finding?.path, "out.log");
      assert.equal(finding?.preview, "ghp_…");
      assert.equal(finding?.fingerprint, sha256(token));
    }
  });

  test("line and column hold for findings discovered out of input order", async () => {
    // Issued secrets are recognised at once and in two halves of each stretch of input, generic
    // ones only when their rule's window closes: the order of discovery is not the input's.
    const rng = new Rng(12);
    const issued = Array.from({ length: 6 }, () => tokens.githubClassic(rng, "ghs"));
    const matchers = issued.flatMap((secret, i) =>
      buildMatchers(secret, { ...ref, credentialId: `cred_${i}` }),
    );
    const lines: string[] = [];
    // Long enough for the window buffer to move on several times.
    for (let i = 0; i < 3000; i++) {
      lines.push(
        i % 37 === 5
          ? `é step ${i}: token ${issued[i % issued.length]} sent`
          : i % 23 === 7
            ? `STRIPE_KEY=${tokens.stripe(rng)} (ünïcode ${i})`
            : `line ${i} of ordinary output, nothing to see`,
      );
    }
    const text = lines.join("\n");
    const expected = (offset: number) => {
      const before = Buffer.from(text).subarray(0, offset).toString("utf8");
      const lastLine = before.slice(before.lastIndexOf("\n") + 1);
      return { line: before.split("\n").length, column: [...lastLine].length + 1 };
    };
    const scanner = createScanner({ matchers });
    for (const size of [7, 4096, text.length]) {
      const { findings } = await scanner.scan(streamed(chunksOf(Buffer.from(text), size)));
      assert.ok(findings.some((f) => f.ruleId === "latchkey-issued"));
      assert.ok(findings.some((f) => f.ruleId !== "latchkey-issued"));
      for (const finding of findings) {
        assert.deepEqual(
          { line: finding.line, column: finding.column },
          expected(finding.offset),
          `${finding.ruleId} at ${finding.offset}, chunks of ${size}`,
        );
      }
    }
  });

  test("line and column hold across the window buffer's moves, for any gaps and cuts", async () => {
    // Findings far apart and close together, among lines with CRLF and characters of 2 to 4
    // bytes, cut into chunks at random: counting resumes from the last finding or from where the
    // buffer last dropped input, and both must land on the same line and column as counting from
    // the start.
    const pieces = ["plain ascii output", "crlf line\r", "é ü ß", "→ arrows ←", "emoji 😀 here", ""];
    for (let seed = 1; seed <= 10; seed++) {
      const rng = new Rng(100 + seed);
      const issued = tokens.githubClassic(rng, "ghs");
      const parts: string[] = [];
      for (let n = 0; n < 6; n++) {
        const gap = rng.pick([0, 1, 200, 5_000, 70_000, 400_000]);
        for (let size = 0; size < gap; ) {
          const line = `${rng.pick(pieces)} ${rng.chars("abcdefgh", rng.int(40))}\n`;
          parts.push(line);
          size += Buffer.byteLength(line);
        }
        parts.push(
          rng.int(2) === 0 ? `ünï ${issued} x` : `é STRIPE_KEY=${tokens.stripe(rng)}`,
          rng.int(3) === 0 ? "" : "\n",
        );
      }
      const bytes = Buffer.from(parts.join(""));
      const newlines: number[] = [];
      for (let at = bytes.indexOf(10); at !== -1; at = bytes.indexOf(10, at + 1)) newlines.push(at);
      const expected = (offset: number) => {
        const line = newlines.filter((at) => at < offset).length;
        const lineStart = line === 0 ? 0 : (newlines[line - 1] as number) + 1;
        return { line: line + 1, column: [...bytes.subarray(lineStart, offset).toString("utf8")].length + 1 };
      };
      const cuts = Array.from({ length: 40 }, () => rng.int(bytes.length));
      const { findings } = await createScanner({ matchers: buildMatchers(issued, ref) }).scan(
        streamed(cutAt(bytes, cuts)),
      );
      assert.equal(findings.length, 6, `seed ${seed}`);
      for (const finding of findings) {
        assert.deepEqual(
          { line: finding.line, column: finding.column },
          expected(finding.offset),
          `seed ${seed}, ${finding.ruleId} at ${finding.offset}`,
        );
      }
    }
  });

  test("an issued secret that a generic rule also matches is reported once, as issued", async () => {
    const token = tokens.githubClassic(new Rng(5), "ghs");
    const scanner = createScanner({ matchers: buildMatchers(token, ref) });
    const { findings } = await scanner.scan(`export GITHUB_TOKEN=${token}\n`);
    assert.equal(findings.length, 1);
    assert.equal(findings[0]?.ruleId, "latchkey-issued");
    assert.equal(findings[0]?.fingerprint, sha256(token));
    assert.equal(findings[0]?.credentialId, "cred_1");
    assert.equal(findings[0]?.sessionId, "sess-1");
    assert.equal(findings[0]?.encoding, "raw");
  });

  test("the most specific rule wins when generic rules overlap", async () => {
    const rng = new Rng(6);
    const token = tokens.githubClassic(rng);
    const document = tokens.serviceAccount(rng);
    const { findings } = await createScanner().scan(`GITHUB_TOKEN=${token}\n${document}\n`);
    assert.deepEqual(
      findings.map((f) => f.ruleId),
      ["github-token", "google-service-account"],
    );
  });

  test("AWS key ids say whether they belong to a configured account", async () => {
    const rng = new Rng(7);
    const ours = tokens.awsKeyId(rng, "ASIA", "123456789012");
    const theirs = tokens.awsKeyId(rng, "AKIA", "210987654321");
    const scanner = createScanner({ awsAccounts: ["123456789012"] });
    const { findings } = await scanner.scan(`${ours}\n${theirs}\n`);
    assert.deepEqual(
      findings.map((f) => [f.awsAccountId, f.accountKnown, f.severity]),
      [
        ["123456789012", true, "high"],
        ["210987654321", false, "medium"],
      ],
    );
    assert.throws(() => createScanner({ awsAccounts: ["12345"] }), TypeError);
  });

  test("secrets shorter than the anchor window are matched whole", async () => {
    const secret = "s3cr3t-Xy9!";
    const matchers = buildMatchers(secret, ref);
    assert.deepEqual(matchers[0]?.anchors, [anchorHash(Buffer.from(secret))]);
    const scanner = createScanner({ matchers, rules: [] });
    const { findings } = await scanner.scan(streamed(chunksOf(Buffer.from(`a=${secret};b=${secret}`), 2)));
    assert.deepEqual(
      findings.map((f) => [f.offset, f.length]),
      [
        [2, secret.length],
        [secret.length + 5, secret.length],
      ],
    );
  });

  test("an issued form is found at every offset modulo 8, ending anywhere, long or short", async () => {
    // 40 bytes; exactly LONG_FORM, the shortest with word anchors; one byte less, anchored whole.
    const secrets = [
      tokens.githubClassic(new Rng(10), "ghs"),
      `${"Q".repeat(LONG_FORM - 6)}x9!Z_k`,
      "w".repeat(LONG_FORM - 1),
    ];
    for (const secret of secrets) {
      const scanner = createScanner({ matchers: buildMatchers(secret, ref), rules: [] });
      for (let offset = 0; offset < 16; offset++) {
        for (const after of ["", "~", "~~", "~~~", "~~~~~", "~~~~~~~~~"]) {
          const text = Buffer.from(`${"y".repeat(offset)}${secret}${after}`);
          for (const size of [1, 3, text.length]) {
            const { findings } = await scanner.scan(streamed(chunksOf(text, size)));
            assert.deepEqual(
              findings.map((f) => [f.offset, f.length]),
              [[offset, secret.length]],
              `${secret.length} bytes at ${offset}, ${after.length} after, chunks of ${size}`,
            );
          }
        }
      }
    }
  });

  test("keywords are found wherever the automaton's two chains meet", async () => {
    const rng = new Rng(11);
    // The longest keywords, which take the second chain longest to fall in step, and a token.
    const line = `${tokens.githubClassic(rng)} Secret_Access_Key private key----- hooks.slack.com/\n`;
    const body = line.repeat(Math.ceil((3 * 8192) / line.length));
    const keywords = defaultRules.flatMap((rule) => rule.keywords);
    const scanner = createScanner();
    for (let pad = 0; pad < line.length; pad++) {
      const text = `${"-".repeat(pad)}${body}`;
      const { findings, stats } = await scanner.scan(text);
      const lower = text.toLowerCase();
      let occurrences = 0;
      for (const keyword of keywords) {
        for (let at = lower.indexOf(keyword); at !== -1; at = lower.indexOf(keyword, at + 1)) occurrences++;
      }
      assert.equal(stats.keywordHits, occurrences, `padding ${pad}`);
      const tokenAt = Array.from({ length: body.length / line.length }, (_, i) => pad + i * line.length);
      assert.deepEqual(
        findings.filter((f) => f.ruleId === "github-token").map((f) => f.offset),
        tokenAt,
        `padding ${pad}`,
      );
    }
  });

  test("redaction replaces each secret by its marker, across chunk boundaries", async () => {
    const rng = new Rng(8);
    const issued = tokens.jwt(rng, { alg: "ES256", typ: "at+jwt" });
    const token = tokens.githubClassic(rng);
    const text = `a ${issued} b\nc ${token} d\n${Buffer.from(`xyz${issued}`).toString("base64")}\nend`;
    const scanner = createScanner({ matchers: buildMatchers(issued, ref) });
    for (const size of [1, 5, 64, 100_000]) {
      const sink = new Sink();
      const { findings } = await scanner.scan(streamed(chunksOf(Buffer.from(text), size)), {
        redactTo: sink,
      });
      assert.equal(findings.length, 3);
      const out = sink.text();
      const issuedFp = sha256(issued).slice(0, 8);
      assert.ok(out.startsWith(`a [REDACTED:latchkey-issued:${issuedFp}] b\nc [REDACTED:github-token:`), out);
      assert.ok(out.includes(`[REDACTED:github-token:${sha256(token).slice(0, 8)}] d\n`));
      assert.ok(out.endsWith("\nend"));
      assert.ok(!out.includes(issued) && !out.includes(token));
    }
  });

  test("memory stays bounded: redacted output follows the input closely on a long single line", async () => {
    // Counts the redacted copy without keeping it.
    let written = 0;
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        written += chunk.length;
        done();
      },
    });
    const scanner = createScanner({ matchers: buildMatchers(tokens.awsSessionToken(new Rng(9)), ref) });
    const total = 64 * 1024 * 1024;
    const block = Buffer.alloc(1024 * 1024, "a");
    let maxLag = 0;
    async function* source() {
      for (let sent = 0; sent < total; sent += block.length) {
        maxLag = Math.max(maxLag, sent - written);
        yield block;
      }
    }
    const { bytes } = await scanner.scan(source(), { redactTo: sink });
    assert.equal(bytes, total);
    assert.equal(written, total);
    assert.ok(maxLag < 2 * block.length, `output lagged ${maxLag} bytes behind the input`);
  });

  test("memory stays bounded: the window buffer does not grow with the input", async () => {
    const scanner = createScanner({ matchers: buildMatchers(tokens.awsSessionToken(new Rng(10)), ref) });
    const total = 64 * 1024 * 1024;
    const block = Buffer.alloc(1024 * 1024, "a");
    // Buffers the process holds, sampled as the scan goes: without redaction the scan allocates
    // none per chunk, so a window buffer that kept what it had seen would show as all the growth.
    const baseline = process.memoryUsage().arrayBuffers;
    let maxGrowth = 0;
    async function* source() {
      for (let sent = 0; sent < total; sent += block.length) {
        maxGrowth = Math.max(maxGrowth, process.memoryUsage().arrayBuffers - baseline);
        yield block;
      }
    }
    assert.equal((await scanner.scan(source())).bytes, total);
    assert.ok(maxGrowth < total / 8, `buffers grew by ${maxGrowth} bytes for ${total} of input`);
  });

  test("a rule sees only windows around its keyword hits, never the whole input", async () => {
    const windows: { length: number; hits: readonly number[]; text: string }[] = [];
    const probe: Rule = {
      id: "probe",
      name: "Probe",
      description: "records the windows it is given",
      severity: "low",
      keywords: ["needle"],
      before: 16,
      after: 40,
      find(text, hits) {
        windows.push({ length: text.length, hits, text });
        return [];
      },
    };
    const filler = "lorem ipsum dolor sit amet\n".repeat(4000);
    const text = [filler, "a needle", filler, "NEEDLE and needle!", filler, "needle", filler].join("");
    await createScanner({ rules: [probe] }).scan(streamed(chunksOf(Buffer.from(text), 4096)));
    assert.deepEqual(
      windows.map(({ length, hits }) => ({ length, hits })),
      [
        { length: 16 + 40, hits: [16] },
        // Two hits close together share one window.
        { length: 16 + 11 + 40, hits: [16, 27] },
        { length: 16 + 40, hits: [16] },
      ],
    );
    for (const { text: window, hits } of windows) {
      for (const hit of hits) assert.equal(window.slice(hit, hit + 6).toLowerCase(), "needle");
    }
  });

  test("a scanner's next scan starts afresh: a keyword cut between two inputs is not found", async () => {
    const scanner = createScanner();
    // A whole number of word pairs, so that the automaton ends the first scan inside the keyword.
    const first = `${"x".repeat(7)}secretacc`;
    assert.equal(first.length % 8, 0);
    assert.equal((await scanner.scan(first)).stats.keywordHits, 1, "secret");
    assert.equal((await scanner.scan(`esskey${"y".repeat(64)}`)).stats.keywordHits, 0);
    assert.equal((await scanner.scan(`${first}esskey`)).stats.keywordHits, 2, "secret, secretaccesskey");
  });

  test("the word loop is primed on every path it has: anchor and keyword hits on both chains and on one", () => {
    const coverage = primeWordLoop();
    for (const [path, count] of [
      ["pair anchors", coverage.pair.anchors],
      ["first chain keywords", coverage.pair.firstKeywords],
      ["second chain keywords", coverage.pair.secondKeywords],
      ["single chain anchors", coverage.chain.anchors],
      ["single chain keywords", coverage.chain.keywords],
    ] as const) {
      assert.ok(count > 0, `the primer never ran the ${path} path`);
    }
  });

  test("misuse is a TypeError at construction", () => {
    assert.throws(
      () => createScanner({ rules: [defaultRules[0], defaultRules[0]].filter((r) => r !== undefined) }),
      TypeError,
    );
    const bad = {
      ...(defaultRules[0] as NonNullable<(typeof defaultRules)[0]>),
      id: "bad",
      keywords: ["UPPER"],
    };
    assert.throws(() => createScanner({ rules: [bad] }), TypeError);
  });
});
