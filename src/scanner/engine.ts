// The streaming scan. Input arrives in chunks of any size; each is copied, a slice at a time, into
// a window buffer that keeps just enough of the past (the longest issued form, the widest rule
// window) for a secret split across chunks to be seen whole. One pass reads each slice as aligned
// pairs of 32-bit words and does two things with each pair: hash the 16-byte window ending there
// and probe the xor filter with the hash (issued secrets), and step the keyword automaton through
// its 8 bytes (generic rules). The automaton is the slow half: each step waits for the one before.
// So the pass walks the two halves of a slice side by side, with one automaton each, and the
// processor works on both chains (and on the hashes, which wait for nothing) at once. Everything
// else happens only at hits.
//
// Findings are held back until nothing still to come can overlap them, then overlapping ones are
// resolved (issued beats generic, an earlier rule beats a later one) and emitted in input order.
// `--redact` output is written up to that same point, so it lags the input by the window only.

import { once } from "node:events";
import { sha256Hex } from "../crypto/hash.js";
import {
  ANCHOR_MULTIPLIER,
  ANCHOR_WINDOW,
  LONG_FORM,
  PROBE_STRIDE,
  WORD_ANCHORS,
  WORD_MULTIPLIERS,
  windowAnchor,
} from "./anchor.js";
import { type Finding, ISSUED_RULE_ID, previewOf, redactionMarker } from "./finding.js";
import { type EntryCode, filterMask, IssuedIndex, tailOf } from "./issued.js";
import { buildKeywordAutomaton, type KeywordAutomaton, keywordOutputs } from "./keywords.js";
import { advance, type LinePoint } from "./lines.js";
import { buildMatchers, type IssuedMatcher } from "./matchers.js";
import { defaultRules, type Rule, type RuleContext, type RuleMatch } from "./rules/index.js";
import { PAGE_CELLS, XOR_FILTER_MULTIPLIERS, type XorFilter, xorFilterHas } from "./xor-filter.js";

export interface ScannerOptions {
  /** Matchers of the secrets Latchkey issued (see buildMatchers). */
  matchers?: readonly IssuedMatcher[];
  /** Generic rules; defaults to every built-in rule. Pass `[]` to look for issued secrets only. */
  rules?: readonly Rule[];
  /** AWS account ids (12 digits) whose access keys are reported as ours. */
  awsAccounts?: readonly string[];
}

export interface ScanOptions {
  /** Set on every finding: the file being scanned. */
  path?: string;
  /** Called for each finding, in input order, as soon as it is final. */
  onFinding?: (finding: Finding) => void;
  /** Receives a copy of the input with every finding replaced by its redaction marker. */
  redactTo?: NodeJS.WritableStream;
}

export interface ScanStats {
  /**
   * Positions whose anchor passed the first filter: for word anchors, about one probe in 256
   * besides the forms present, however many secrets are loaded.
   */
  anchorHits: number;
  /** SHA-256 computations over candidate bytes. */
  verifications: number;
  keywordHits: number;
}

export interface ScanResult {
  findings: Finding[];
  bytes: number;
  stats: ScanStats;
}

export type ScanSource =
  | AsyncIterable<Uint8Array | string>
  | Iterable<Uint8Array | string>
  | Uint8Array
  | string;

export interface Scanner {
  readonly rules: readonly Rule[];
  /** Matchers loaded. */
  readonly matchers: number;
  scan(source: ScanSource, options?: ScanOptions): Promise<ScanResult>;
}

const M = ANCHOR_MULTIPLIER;
const [C0, C1, C2, C3] = WORD_MULTIPLIERS;
const [F0, F1] = XOR_FILTER_MULTIPLIERS;
/**
 * Zero bytes that precede the stream in the window buffer, so that every hash has a full window
 * behind it: at least a short form's length, and a multiple of PROBE_STRIDE so that stream
 * offsets and buffer indexes agree modulo PROBE_STRIDE (the word loop reads aligned word pairs).
 */
const LEAD = PROBE_STRIDE * Math.ceil(LONG_FORM / PROBE_STRIDE);
/**
 * Bytes the word loop stays behind the last byte received (besides the partial pair it cannot
 * read yet): a form ends up to PROBE_STRIDE - 1 bytes past its window, and is verified only once
 * it has arrived.
 */
const WORD_LAG = PROBE_STRIDE - 1;
/** Bytes stepped between two looks at hits: small enough to stay in cache. */
const SLICE = 64 * 1024;
/** A rule's windows merge while the merged window stays within twice its own size (at least this). */
const MIN_MERGED_WINDOW = 4096;
/**
 * Words per call of the word loop: its hit lists have room for a hit at every byte of that many,
 * so the loop never has to stop early.
 */
const CALL_WORDS = 2048;
const MAX_SPARE_WORKSPACES = 2;
/** Redacted output is handed out in pieces of at least this size (except at the end). */
const OUTPUT_BATCH = 64 * 1024;

interface Compiled {
  readonly rules: readonly Rule[];
  readonly automaton: KeywordAutomaton;
  readonly keywordRule: Int32Array;
  readonly keywordLength: Int32Array;
  readonly keywordCount: number;
  readonly longestKeyword: number;
  readonly issued: IssuedIndex;
  readonly context: RuleContext;
  /** Bytes before the end of input that a later hit may still need. */
  readonly retain: number;
  /** Retained bytes past which overlapping findings are resolved without waiting any longer. */
  readonly limit: number;
}

interface PendingWindow {
  first: number;
  last: number;
  hits: number[];
}

interface Candidate {
  start: number;
  end: number;
  rank: number;
  finding: Finding;
}

export function createScanner(options: ScannerOptions = {}): Scanner {
  if (!primed) {
    primeWordLoop();
    primed = true;
  }
  const rules = options.rules ?? defaultRules;
  const awsAccounts = new Set(options.awsAccounts ?? []);
  for (const account of awsAccounts) {
    if (!/^\d{12}$/.test(account))
      throw new TypeError(`awsAccounts: ${JSON.stringify(account)} is not 12 digits`);
  }
  const ids = new Set<string>([ISSUED_RULE_ID]);
  const keywords: string[] = [];
  const keywordRule: number[] = [];
  rules.forEach((rule, index) => {
    if (ids.has(rule.id)) throw new TypeError(`rules: the id ${JSON.stringify(rule.id)} is taken`);
    ids.add(rule.id);
    for (const keyword of rule.keywords) {
      keywords.push(keyword);
      keywordRule.push(index);
    }
  });
  const issued = new IssuedIndex(options.matchers ?? []);
  if (!LITTLE_ENDIAN)
    throw new TypeError("the scanner reads input as little-endian words; this host is big-endian");
  const widest = Math.max(0, ...rules.map(mergedWindow));
  const longestKeyword = Math.max(0, ...keywords.map((keyword) => keyword.length));
  // Measured back from where the word loop has got to: a form still to be found ends at least
  // there, a keyword still to be found ends there or later.
  const retain = Math.max(LEAD, issued.maxLength, ...rules.map((rule) => rule.before + longestKeyword));
  const compiled: Compiled = {
    rules,
    automaton: buildKeywordAutomaton(keywords),
    keywordRule: Int32Array.from(keywordRule),
    keywordLength: Int32Array.from(keywords, (keyword) => keyword.length),
    keywordCount: keywords.length,
    longestKeyword,
    issued,
    context: { awsAccounts },
    retain,
    limit: 4 * (retain + widest) + SLICE,
  };
  // Workspaces outlive their scans, so that scanning many files does not allocate (and collect,
  // and zero) a few hundred kilobytes each time.
  const spare: Workspace[] = [];
  return {
    rules,
    matchers: issued.size,
    async scan(source, scanOptions = {}) {
      const run = new ScanRun(compiled, scanOptions, spare.pop() ?? newWorkspace(compiled));
      const { redactTo } = scanOptions;
      const chunks = typeof source === "string" || source instanceof Uint8Array ? [source] : source;
      for await (const chunk of chunks) {
        run.push(typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk);
        if (redactTo) await write(redactTo, run.takeOutput());
      }
      run.finish();
      if (spare.length < MAX_SPARE_WORKSPACES) spare.push(run.release());
      if (redactTo) await write(redactTo, run.takeOutput());
      return { findings: run.findings, bytes: run.bytes, stats: run.stats };
    },
  };
}

/** What a scan writes to besides its results: kept from one scan to the next (see createScanner). */
interface Workspace {
  buffer: Buffer;
  loop: ByteLoop;
}

function newWorkspace(compiled: Compiled): Workspace {
  return {
    buffer: windowBuffer(compiled.limit + SLICE),
    loop: new ByteLoop(compiled.issued, compiled.automaton, compiled.longestKeyword),
  };
}

const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** Zeroed, whole word pairs, at the start of its own ArrayBuffer: its words are aligned. */
function windowBuffer(size: number): Buffer {
  return Buffer.from(new ArrayBuffer(PROBE_STRIDE * Math.ceil(size / PROBE_STRIDE)));
}

/** A window buffer's bytes as little-endian 32-bit words (see windowBuffer). */
function wordsOf(buffer: Buffer): Int32Array {
  return new Int32Array(buffer.buffer, buffer.byteOffset, buffer.length >> 2);
}

function mergedWindow(rule: Rule): number {
  return 2 * Math.max(MIN_MERGED_WINDOW, rule.before + rule.after);
}

async function write(stream: NodeJS.WritableStream, data: Buffer | undefined): Promise<void> {
  if (data !== undefined && !stream.write(data)) await once(stream as NodeJS.EventEmitter, "drain");
}

class ScanRun {
  readonly findings: Finding[] = [];
  readonly stats: ScanStats = { anchorHits: 0, verifications: 0, keywordHits: 0 };
  private buffer: Buffer;
  private data: Uint8Array;
  /** The same bytes as aligned words: words[j] is data[4j..4j + 4), little-endian. */
  private words: Int32Array;
  /** Stream offset of data[0]; the stream is preceded by LEAD virtual zero bytes for the hashes. */
  private base = -LEAD;
  private used = LEAD;
  /**
   * Stream offset up to which the word loop has run: every window ending there or before has
   * been probed, every keyword ending there or before found. A multiple of 4.
   */
  private scannedTo = 0;
  private readonly shortHashes: Int32Array;
  private readonly loop: ByteLoop;
  private readonly windows: PendingWindow[][];
  private candidates: Candidate[] = [];
  /** The smallest start and end among candidates (Infinity when there are none). */
  private firstStart = Number.POSITIVE_INFINITY;
  private firstEnd = Number.POSITIVE_INFINITY;
  private lineBase: LinePoint = { abs: 0, line: 0, column: 0 };
  private lastPoint: LinePoint = this.lineBase;
  private written = 0;
  private output: Buffer[] = [];
  private readonly redacting: boolean;

  constructor(
    private readonly compiled: Compiled,
    private readonly options: ScanOptions,
    { buffer, loop }: Workspace,
  ) {
    this.buffer = buffer;
    this.data = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.length);
    this.words = wordsOf(buffer);
    this.data.fill(0, 0, LEAD);
    this.shortHashes = new Int32Array(compiled.issued.short.length);
    this.loop = loop;
    loop.reset();
    this.windows = compiled.rules.map(() => []);
    this.redacting = options.redactTo !== undefined;
  }

  get bytes(): number {
    return this.base + this.used;
  }

  push(chunk: Uint8Array): void {
    for (let offset = 0; offset < chunk.length; offset += SLICE) {
      const slice = chunk.subarray(offset, Math.min(chunk.length, offset + SLICE));
      this.reserve(slice.length);
      this.data.set(slice, this.used);
      const from = this.used;
      this.used += slice.length;
      this.step(from, this.used);
      this.settle(false);
    }
  }

  finish(): void {
    // The last partial pair, completed with zeros: no keyword and no verified form includes them.
    const end = PROBE_STRIDE * Math.ceil(this.used / PROBE_STRIDE);
    this.data.fill(0, this.used, end);
    this.scanWords(end);
    this.settle(true);
  }

  /** The workspace, for another scan to use; this run is over. */
  release(): Workspace {
    return { buffer: this.buffer, loop: this.loop };
  }

  takeOutput(): Buffer | undefined {
    if (this.output.length === 0) return undefined;
    const out = Buffer.concat(this.output);
    this.output = [];
    return out;
  }

  private step(from: number, to: number): void {
    this.scanWords(to - WORD_LAG);
    if (this.compiled.issued.short.length > 0) this.stepShortForms(from, to);
  }

  /** Runs the word loop over the whole word pairs that end at or before data[until]. */
  private scanWords(until: number): void {
    const { issued, keywordCount } = this.compiled;
    if (!issued.hasLong && keywordCount === 0) return;
    const loop = this.loop;
    const stop = (until >> 3) << 1;
    for (let at = (this.scannedTo - this.base) >> 2; at < stop; ) {
      const next = Math.min(stop, at + CALL_WORDS);
      loop.run(this.words, at, next);
      this.stats.anchorHits += loop.anchorCount / 2;
      for (let k = 0; k < loop.anchorCount; k += 2) {
        const group = issued.find(loop.anchorHits[k + 1] as number);
        if (group) this.verify(group, 4 * (loop.anchorHits[k] as number) + PROBE_STRIDE);
      }
      // The first half's hits all end before the second half's begin: input order is kept.
      this.keywordHits(loop.firstHalf.hits, loop.firstHalf.count);
      this.keywordHits(loop.secondHalf.hits, loop.secondHalf.count);
      this.scannedTo = this.base + 4 * next;
      at = next;
    }
  }

  private keywordHits(hits: Int32Array, count: number): void {
    const { automaton, keywordRule, keywordLength } = this.compiled;
    for (let k = 0; k < count; k += 2) {
      const end = this.base + (hits[k] as number) + 1;
      for (const id of keywordOutputs(automaton, hits[k + 1] as number)) {
        this.stats.keywordHits++;
        this.addHit(keywordRule[id] as number, end - (keywordLength[id] as number));
      }
    }
  }

  /** Forms shorter than the anchor window: one more rolling hash per distinct length (rare). */
  private stepShortForms(from: number, to: number): void {
    const data = this.data;
    this.compiled.issued.short.forEach((form, index) => {
      const { length, outgoing, filter, wordShift, groups } = form;
      let h = this.shortHashes[index] as number;
      for (let i = from; i < to; i++) {
        h = (Math.imul(h, M) + (data[i] as number) - (outgoing[data[i - length] as number] as number)) | 0;
        const mask = filterMask(h);
        if (((filter[h >>> wordShift] as number) & mask) === mask) {
          this.stats.anchorHits++;
          const group = groups.get(h);
          if (group) this.verify(group, i + 1);
        }
      }
      this.shortHashes[index] = h;
    });
  }

  /** Checks the forms of `group` whose anchored window ends at data[windowEnd]. */
  private verify(group: readonly EntryCode[], windowEnd: number): void {
    for (const code of group) {
      const matcher = this.compiled.issued.matcherOf(code);
      const end = windowEnd + tailOf(code);
      const start = end - matcher.length;
      if (this.base + start < 0 || end > this.used) continue;
      // Another of the form's windows first: a 32-bit anchor matches one of 480,000 (10,000
      // secrets) by chance about once per 9,000 probes, each a SHA-256 of up to a few kilobytes
      // otherwise; one more window hash turns almost all of them away.
      if (matcher.length >= LONG_FORM) {
        const other = (tailOf(code) + WORD_ANCHORS / 2) % WORD_ANCHORS;
        if (windowAnchor(this.data, end - other - ANCHOR_WINDOW) !== matcher.anchors[other]) continue;
      }
      this.stats.verifications++;
      const candidate = this.data.subarray(start, end);
      if (sha256Hex(candidate) !== matcher.digest) continue;
      const abs = this.base + start;
      this.addCandidate({
        start: abs,
        end: abs + matcher.length,
        rank: this.compiled.rules.length + 1,
        finding: {
          ruleId: ISSUED_RULE_ID,
          severity: "critical",
          ...this.location(abs, matcher.length, candidate),
          fingerprint: matcher.fingerprint,
          credentialId: matcher.credentialId,
          sessionId: matcher.sessionId,
          encoding: matcher.encoding,
        },
      });
    }
  }

  /** Where a candidate is; its line and column are filled in when it is emitted (see emit). */
  private location(abs: number, length: number, bytes: Uint8Array) {
    return {
      ...(this.options.path === undefined ? {} : { path: this.options.path }),
      offset: abs,
      line: 0,
      column: 0,
      length,
      preview: previewOf(bytes),
    };
  }

  private addHit(ruleIndex: number, position: number): void {
    const rule = this.compiled.rules[ruleIndex] as Rule;
    const pending = this.windows[ruleIndex] as PendingWindow[];
    const last = pending[pending.length - 1];
    if (
      last !== undefined &&
      position - rule.before <= last.last + rule.after &&
      position + rule.after - (last.first - rule.before) <= mergedWindow(rule)
    ) {
      last.last = position;
      last.hits.push(position);
    } else {
      pending.push({ first: position, last: position, hits: [position] });
    }
  }

  private evaluate(ruleIndex: number, window: PendingWindow): void {
    const rule = this.compiled.rules[ruleIndex] as Rule;
    const start = Math.max(0, window.first - rule.before);
    const stop = Math.min(this.bytes, window.last + rule.after);
    const text = this.buffer.toString("latin1", start - this.base, stop - this.base);
    const matches = rule.find(
      text,
      window.hits.map((hit) => hit - start),
      this.compiled.context,
    );
    for (const match of matches) {
      if (!(match.start >= 0 && match.start < match.end && match.end <= text.length)) continue;
      this.addRuleCandidate(ruleIndex, rule, start + match.start, start + match.end, match);
    }
  }

  private addRuleCandidate(
    ruleIndex: number,
    rule: Rule,
    start: number,
    end: number,
    match: RuleMatch,
  ): void {
    const bytes = this.data.subarray(start - this.base, end - this.base);
    this.addCandidate({
      start,
      end,
      rank: this.compiled.rules.length - ruleIndex,
      finding: {
        ruleId: rule.id,
        severity: match.severity ?? rule.severity,
        ...this.location(start, end - start, bytes),
        fingerprint: sha256Hex(bytes),
        ...(match.awsAccountId === undefined ? {} : { awsAccountId: match.awsAccountId }),
        ...(match.accountKnown === undefined ? {} : { accountKnown: match.accountKnown }),
      },
    });
  }

  /** After each slice: run rules whose windows are complete, emit what is final, redact up to it. */
  private settle(final: boolean): void {
    const { rules, retain, limit } = this.compiled;
    let cutoff = final ? Number.POSITIVE_INFINITY : this.scannedTo - retain;
    rules.forEach((rule, index) => {
      const pending = this.windows[index] as PendingWindow[];
      while (
        pending.length > 0 &&
        (final || (pending[0] as PendingWindow).last + rule.after <= this.scannedTo)
      ) {
        this.evaluate(index, pending.shift() as PendingWindow);
      }
      const next = pending[0];
      if (next !== undefined) cutoff = Math.min(cutoff, next.first - rule.before);
    });
    if (this.candidates.length > 0) {
      const force = final || this.bytes - this.firstStart > limit;
      if (force || this.firstEnd <= cutoff) this.emitSettled(cutoff, force);
    }
    if (this.redacting) {
      const safe = final ? this.bytes : Math.min(cutoff, this.firstStart);
      if (final || safe - this.written >= OUTPUT_BATCH) this.copyThrough(safe);
    }
  }

  /**
   * Emits every cluster of overlapping candidates that no later finding can join (each ends at or
   * before `cutoff`, where every finding still to come starts), keeping per cluster the
   * highest-ranked non-overlapping candidates.
   */
  private emitSettled(cutoff: number, force: boolean): void {
    const candidates = this.candidates.sort((a, b) => a.start - b.start || b.end - a.end);
    let index = 0;
    while (index < candidates.length) {
      let end = (candidates[index] as Candidate).end;
      let next = index + 1;
      while (next < candidates.length && (candidates[next] as Candidate).start < end) {
        end = Math.max(end, (candidates[next] as Candidate).end);
        next++;
      }
      if (end > cutoff && !force) break;
      const kept: Candidate[] = [];
      const byRank = candidates
        .slice(index, next)
        .sort((a, b) => b.rank - a.rank || b.end - b.start - (a.end - a.start) || a.start - b.start);
      for (const candidate of byRank) {
        if (kept.every((k) => candidate.end <= k.start || candidate.start >= k.end)) kept.push(candidate);
      }
      for (const candidate of kept.sort((a, b) => a.start - b.start)) this.emit(candidate);
      index = next;
    }
    this.candidates = candidates.slice(index);
    this.firstStart = Math.min(...this.candidates.map((c) => c.start));
    this.firstEnd = Math.min(...this.candidates.map((c) => c.end));
  }

  private addCandidate(candidate: Candidate): void {
    this.candidates.push(candidate);
    this.firstStart = Math.min(this.firstStart, candidate.start);
    this.firstEnd = Math.min(this.firstEnd, candidate.end);
  }

  private emit(candidate: Candidate): void {
    // Counted here, in input order, and not when the candidate was found: candidates come out of
    // order (two halves of a slice at once, rules after their windows close), and counting lines
    // back from an earlier point costs a pass over the whole window buffer.
    const point = this.pointAt(candidate.start);
    candidate.finding.line = point.line + 1;
    candidate.finding.column = point.column + 1;
    this.findings.push(candidate.finding);
    this.options.onFinding?.(candidate.finding);
    if (!this.redacting || candidate.end <= this.written) return;
    this.copyThrough(candidate.start);
    this.output.push(Buffer.from(redactionMarker(candidate.finding), "utf8"));
    this.written = candidate.end;
  }

  private copyThrough(abs: number): void {
    if (abs <= this.written) return;
    this.output.push(Buffer.from(this.data.subarray(this.written - this.base, abs - this.base)));
    this.written = abs;
  }

  /** Makes room for `incoming` more bytes, dropping what nothing can need any more. */
  private reserve(incoming: number): void {
    if (this.used + incoming <= this.data.length) return;
    const { rules, retain } = this.compiled;
    let keep = this.scannedTo - retain;
    rules.forEach((rule, index) => {
      const next = this.windows[index]?.[0];
      if (next !== undefined) keep = Math.min(keep, next.first - rule.before);
    });
    keep = Math.min(keep, this.firstStart);
    if (this.redacting) {
      this.copyThrough(keep);
      keep = Math.min(keep, this.written);
    }
    // Whole pairs go, so that buffer indexes stay aligned with stream offsets modulo PROBE_STRIDE.
    keep = PROBE_STRIDE * Math.floor(keep / PROBE_STRIDE);
    if (keep > this.base) {
      // Counted on from the last emitted finding when it lies at or before `keep` (the bytes
      // before it are counted already), else from lineBase.
      if (keep > this.lineBase.abs)
        this.lineBase = this.advance(this.lastPoint.abs <= keep ? this.lastPoint : this.lineBase, keep);
      if (this.lastPoint.abs < this.lineBase.abs) this.lastPoint = this.lineBase;
      this.data.copyWithin(0, keep - this.base, this.used);
      this.used -= keep - this.base;
      this.base = keep;
    }
    if (this.used + incoming > this.data.length) {
      const larger = windowBuffer(Math.max(2 * this.data.length, this.used + incoming));
      larger.set(this.data.subarray(0, this.used));
      this.buffer = larger;
      this.data = new Uint8Array(larger.buffer, larger.byteOffset, larger.length);
      this.words = wordsOf(larger);
    }
  }

  private pointAt(abs: number): LinePoint {
    const from = this.lastPoint.abs <= abs ? this.lastPoint : this.lineBase;
    this.lastPoint = this.advance(from, abs);
    return this.lastPoint;
  }

  private advance(from: LinePoint, to: number): LinePoint {
    return advance(from, to, this.data, this.words, this.base);
  }
}

let primed = false;

/** What each path of the word loop found while being primed (see primeWordLoop). */
export interface PrimerCoverage {
  /** Anchors and keyword hits of each half of a call long enough for both chains. */
  pair: { anchors: number; firstKeywords: number; secondKeywords: number };
  /** The same for a short call, which runs on one chain alone. */
  chain: { anchors: number; keywords: number };
}

/**
 * Runs every path of the word loop once, on a made-up input, before the first real scan. V8
 * optimises the loop as soon as it is hot, with type feedback from the paths that have run by
 * then; a path that has not (the first anchor or keyword hit, after a quiet start) deoptimises it
 * when it first runs, and the loop could then stay for the rest of the process in
 * on-stack-replacement code that measured 20-40% slower on every scan after it.
 */
export function primeWordLoop(): PrimerCoverage {
  const form = "latchkey-word-loop-primer-0123456789";
  const matchers = buildMatchers(form, { credentialId: "primer", sessionId: "primer", provider: "primer" });
  const keyword = "primer";
  const loop = new ByteLoop(new IssuedIndex(matchers), buildKeywordAutomaton([keyword]), keyword.length);
  // An odd number of pairs, so that the call ends with one pair on the second chain alone.
  const long = 2 * MIN_SPLIT_WORDS + 2;
  const short = MIN_SPLIT_WORDS / 2;
  const text = Buffer.from(`${" ".repeat(LEAD)}${`${form} `.repeat(MIN_SPLIT_WORDS)}`, "latin1");
  const buffer = windowBuffer(text.length);
  buffer.set(text);
  const words = wordsOf(buffer);
  const from = LEAD >> 2;
  loop.run(words, from, from + long);
  const pair = {
    anchors: loop.anchorCount / 2,
    firstKeywords: loop.firstHalf.count / 2,
    secondKeywords: loop.secondHalf.count / 2,
  };
  loop.run(words, from + long, from + long + short);
  return { pair, chain: { anchors: loop.anchorCount / 2, keywords: loop.firstHalf.count / 2 } };
}

/** Keyword hits of one half of a call: byte index and automaton state, side by side. */
interface HalfHits {
  readonly hits: Int32Array;
  count: number;
}

/** Calls shorter than this many words run as one chain: the second would spend more on warming up. */
const MIN_SPLIT_WORDS = 256;

/**
 * The hot loop, alone in its own methods so that the optimiser sees nothing but it. It notes its
 * hits (word or byte index, and hash or state) for the caller to look at afterwards, and stays
 * simple enough for the optimiser to keep its tables' bases and bounds out of the loop.
 */
class ByteLoop {
  /** Pairs of (index of the pair's first word, anchor) that passed the xor filter. */
  readonly anchorHits = new Int32Array(CALL_WORDS + 4);
  anchorCount = 0;
  readonly firstHalf: HalfHits = { hits: new Int32Array(8 * CALL_WORDS + 16), count: 0 };
  readonly secondHalf: HalfHits = { hits: new Int32Array(8 * CALL_WORDS + 16), count: 0 };
  /** The automaton's state at the end of what has been scanned. */
  private state = 0;
  private readonly probing: boolean;
  private readonly filter: XorFilter;
  private readonly delta: Uint16Array;
  private readonly acceptFrom: number;
  /**
   * Words the second chain reads, from the root, before its half begins: enough for the longest
   * keyword, so that it reaches the state the first chain would have there (a state stands for
   * the input's longest suffix that begins a keyword). Even, to keep pairs aligned.
   */
  private readonly warmup: number;

  constructor(issued: IssuedIndex, automaton: KeywordAutomaton, longestKeyword: number) {
    this.probing = issued.hasLong;
    this.filter = issued.filter;
    this.delta = automaton.delta;
    this.acceptFrom = automaton.acceptFrom;
    this.warmup = 2 * Math.ceil(longestKeyword / PROBE_STRIDE);
  }

  /** Back to the start of a stream. */
  reset(): void {
    this.state = 0;
  }

  /** Scans words[from..to), whole pairs (`from` and `to` even, to - from at most CALL_WORDS). */
  run(words: Int32Array, from: number, to: number): void {
    this.anchorCount = 0;
    this.firstHalf.count = 0;
    this.secondHalf.count = 0;
    if (to - from < MIN_SPLIT_WORDS) {
      this.state = this.chain(words, from, to, this.state, this.firstHalf);
      return;
    }
    const half = ((to - from) >> 2) << 1;
    const mid = from + half;
    const second = this.chain(words, mid - this.warmup, mid, 0, undefined);
    const last = this.pair(words, from, mid, half, this.state, second);
    // An odd number of pairs leaves one for the second chain alone.
    this.state = mid + half < to ? this.chain(words, mid + half, to, last, this.secondHalf) : last;
  }

  /**
   * Two chains at once: pairs words[from..mid) and words[mid..mid + half), the first automaton
   * starting in state `s`, the second in `t`. Returns the second's final state.
   */
  private pair(words: Int32Array, from: number, mid: number, half: number, s: number, t: number): number {
    const { cells, pages, seed } = this.filter;
    const probing = this.probing;
    const delta = this.delta;
    const acceptFrom = this.acceptFrom;
    const anchorHits = this.anchorHits;
    const first = this.firstHalf.hits;
    const second = this.secondHalf.hits;
    let anchors = 0;
    let nf = 0;
    let ns = 0;
    let p0 = mix(words[from - 2] as number);
    let p1 = mix(words[from - 1] as number);
    let q0 = mix(words[mid - 2] as number);
    let q1 = mix(words[mid - 1] as number);
    for (let j = from; j < mid; j += 2) {
      const k = j + half;
      const a = words[j] as number;
      const b = words[j + 1] as number;
      const c = words[k] as number;
      const d = words[k + 1] as number;
      if (probing) {
        // mix, windowHash and xorFilterHas (the cell layout is in xor-filter.ts) written out:
        // called from here they measured slower.
        const ma = a ^ (a >>> 15);
        const mb = b ^ (b >>> 15);
        const hu = (Math.imul(p0, C0) + Math.imul(p1, C1) + Math.imul(ma, C2) + Math.imul(mb, C3)) | 0;
        p0 = ma;
        p1 = mb;
        const h = hu ^ (hu >>> 15);
        const hp = (Math.imul(Math.imul(hu ^ seed, F0) >>> 13, pages) >>> 19) * PAGE_CELLS;
        const hb = (h >>> 20) & 0xc00;
        if (
          ((cells[hp + (h >>> 20)] as number) ^
            (cells[hp + ((hb ^ 0x400) | ((h >>> 10) & 0x3ff))] as number) ^
            (cells[hp + ((hb ^ 0x800) | (h & 0x3ff))] as number)) ===
          Math.imul(hu, F1) >>> 24
        ) {
          anchorHits[anchors++] = j;
          anchorHits[anchors++] = h;
        }
        const mc = c ^ (c >>> 15);
        const md = d ^ (d >>> 15);
        const gu = (Math.imul(q0, C0) + Math.imul(q1, C1) + Math.imul(mc, C2) + Math.imul(md, C3)) | 0;
        q0 = mc;
        q1 = md;
        const g = gu ^ (gu >>> 15);
        const gp = (Math.imul(Math.imul(gu ^ seed, F0) >>> 13, pages) >>> 19) * PAGE_CELLS;
        const gb = (g >>> 20) & 0xc00;
        if (
          ((cells[gp + (g >>> 20)] as number) ^
            (cells[gp + ((gb ^ 0x400) | ((g >>> 10) & 0x3ff))] as number) ^
            (cells[gp + ((gb ^ 0x800) | (g & 0x3ff))] as number)) ===
          Math.imul(gu, F1) >>> 24
        ) {
          anchorHits[anchors++] = k;
          anchorHits[anchors++] = g;
        }
      }
      const at = 4 * j;
      const bt = 4 * k;
      s = delta[(s << 8) | (a & 0xff)] as number;
      t = delta[(t << 8) | (c & 0xff)] as number;
      if (s >= acceptFrom) nf = note(first, nf, at, s);
      if (t >= acceptFrom) ns = note(second, ns, bt, t);
      s = delta[(s << 8) | ((a >>> 8) & 0xff)] as number;
      t = delta[(t << 8) | ((c >>> 8) & 0xff)] as number;
      if (s >= acceptFrom) nf = note(first, nf, at + 1, s);
      if (t >= acceptFrom) ns = note(second, ns, bt + 1, t);
      s = delta[(s << 8) | ((a >>> 16) & 0xff)] as number;
      t = delta[(t << 8) | ((c >>> 16) & 0xff)] as number;
      if (s >= acceptFrom) nf = note(first, nf, at + 2, s);
      if (t >= acceptFrom) ns = note(second, ns, bt + 2, t);
      s = delta[(s << 8) | (a >>> 24)] as number;
      t = delta[(t << 8) | (c >>> 24)] as number;
      if (s >= acceptFrom) nf = note(first, nf, at + 3, s);
      if (t >= acceptFrom) ns = note(second, ns, bt + 3, t);
      s = delta[(s << 8) | (b & 0xff)] as number;
      t = delta[(t << 8) | (d & 0xff)] as number;
      if (s >= acceptFrom) nf = note(first, nf, at + 4, s);
      if (t >= acceptFrom) ns = note(second, ns, bt + 4, t);
      s = delta[(s << 8) | ((b >>> 8) & 0xff)] as number;
      t = delta[(t << 8) | ((d >>> 8) & 0xff)] as number;
      if (s >= acceptFrom) nf = note(first, nf, at + 5, s);
      if (t >= acceptFrom) ns = note(second, ns, bt + 5, t);
      s = delta[(s << 8) | ((b >>> 16) & 0xff)] as number;
      t = delta[(t << 8) | ((d >>> 16) & 0xff)] as number;
      if (s >= acceptFrom) nf = note(first, nf, at + 6, s);
      if (t >= acceptFrom) ns = note(second, ns, bt + 6, t);
      s = delta[(s << 8) | (b >>> 24)] as number;
      t = delta[(t << 8) | (d >>> 24)] as number;
      if (s >= acceptFrom) nf = note(first, nf, at + 7, s);
      if (t >= acceptFrom) ns = note(second, ns, bt + 7, t);
    }
    this.anchorCount = anchors;
    this.firstHalf.count = nf;
    this.secondHalf.count = ns;
    return t;
  }

  /**
   * One chain over the pairs of words[from..to), from state `s`; returns the final state. Hits go
   * to `into` (after those already there), or nowhere when warming up.
   */
  private chain(words: Int32Array, from: number, to: number, s: number, into: HalfHits | undefined): number {
    const filter = this.filter;
    const probing = this.probing && into !== undefined;
    const delta = this.delta;
    const acceptFrom = this.acceptFrom;
    const anchorHits = this.anchorHits;
    const hits = into?.hits;
    let anchors = this.anchorCount;
    let n = into?.count ?? 0;
    let p0 = mix(words[from - 2] as number);
    let p1 = mix(words[from - 1] as number);
    for (let j = from; j < to; j += 2) {
      const a = words[j] as number;
      const b = words[j + 1] as number;
      if (probing) {
        const ma = mix(a);
        const mb = mix(b);
        const h = windowHash(p0, p1, ma, mb);
        p0 = ma;
        p1 = mb;
        if (xorFilterHas(filter, h)) {
          anchorHits[anchors++] = j;
          anchorHits[anchors++] = h;
        }
      }
      for (let byte = 0; byte < 8; byte++) {
        const word = byte < 4 ? a : b;
        s = delta[(s << 8) | ((word >>> (8 * (byte & 3))) & 0xff)] as number;
        if (s >= acceptFrom && hits) n = note(hits, n, 4 * j + byte, s);
      }
    }
    this.anchorCount = anchors;
    if (into) into.count = n;
    return s;
  }
}

// The word loop's arithmetic, as anchor.ts and issued.ts define it. `chain` calls these; `pair`,
// the hot loop, has them written out.

function mix(word: number): number {
  return word ^ (word >>> 15);
}

/** The word anchor of a window from its four mixed words, oldest first (windowAnchor, signed). */
function windowHash(w0: number, w1: number, w2: number, w3: number): number {
  const h = (Math.imul(w0, C0) + Math.imul(w1, C1) + Math.imul(w2, C2) + Math.imul(w3, C3)) | 0;
  return h ^ (h >>> 15);
}

/** Records a keyword hit (byte index, state) at `count`; returns the new count. */
function note(hits: Int32Array, count: number, index: number, state: number): number {
  hits[count] = index;
  hits[count + 1] = state;
  return count + 2;
}
