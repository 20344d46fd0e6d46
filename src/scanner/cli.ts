// `latchkey scan`: the command-line face of the scanner. It writes only through `io`, so the
// project's CLI and the tests drive it the same way.

import { once } from "node:events";
import { type FileHandle, open, stat } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { parseFlags, UsageError } from "../cli/args.js";
import { version } from "../version.js";
import { fetchMatchers, MatcherFetchError } from "./broker.js";
import { createScanner, type ScannerOptions } from "./engine.js";
import { inputFiles, readAhead } from "./files.js";
import type { Finding } from "./finding.js";
import type { IssuedMatcher } from "./matchers.js";
import { type FileScan, scanInParallel } from "./parallel.js";
import { formatBytes, formatJson, formatText, summarize } from "./report.js";
import { defaultRules } from "./rules/index.js";
import { formatSarif } from "./sarif.js";

export interface ScanIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
  /** Whether stderr is a terminal: the progress line is shown only then. */
  isTTY: boolean;
}

const USAGE = `Usage: latchkey scan [PATH...|-] [options]

Looks for secrets in files, directories (recursively, leaving out .git and binary files) or
standard input (\`-\`, or no path): credentials Latchkey issued, found exactly and in their
base64, base64url, hex, URL- and JSON-escaped forms, and generic secret formats (GitHub, AWS,
PEM private keys, JWTs, Slack, Stripe, OpenAI, Anthropic, npm, Google service accounts, and
high-entropy password/token assignments). A finding shows where and which, never the secret.

Options:
  --format text|json|sarif  report format (default: text)
  --redact[=FILE]           write a copy of the input with each secret replaced by
                            [REDACTED:<rule>:<fingerprint prefix>] to FILE, or to standard
                            output (the report then goes to standard error); one input only
  --aws-account ID          an AWS account id of yours (repeatable): its access keys are
                            reported as ours, at high severity
  --session ID              also look for what Latchkey issued to this session, using the
                            matchers the broker keeps for it (API key in LATCHKEY_API_KEY);
                            repeatable, for the output of several sessions
  --broker URL              the broker (default: $LATCHKEY_BROKER_URL, else http://127.0.0.1:8080)
  -h, --help                show this help

Exit status: 0 nothing found, 1 secrets found, 2 error.
`;

const FORMATS = ["text", "json", "sarif"] as const;
type Format = (typeof FORMATS)[number];
const DEFAULT_BROKER = "http://127.0.0.1:8080";
const PROGRESS_AFTER_MS = 1000;
const PROGRESS_EVERY_MS = 250;
/**
 * Input bytes that justify one more scanning thread. A worker takes about a second to start
 * (with 10,000 secrets, measured on 2 CPUs: the TypeScript loader 0.2 s, the sources 0.2 s, its
 * own index of the matchers 0.1 s, the copy of the matchers and a cold optimiser the rest), the
 * time one thread scans some 250 MB in, and on a machine with few CPUs it slows the calling
 * thread while it does: below that, a second thread would slow the scan down.
 */
const BYTES_PER_THREAD = 256 * 1024 * 1024;

/** A failure to report on stderr with exit status 2; the message is safe to print. */
class ScanFailure extends Error {
  override readonly name = "ScanFailure";
}

interface Plan {
  format: Format;
  inputs: string[];
  redact: string | undefined;
  awsAccounts: string[];
  sessions: string[];
  broker: string;
}

export async function runScanCommand(argv: string[], io: ScanIo): Promise<number> {
  try {
    const plan = parse(argv, io);
    if (plan === undefined) {
      io.stdout.write(USAGE);
      return 0;
    }
    const matchers = await loadMatchers(plan.sessions, plan.broker, io.env);
    return await scanAll({ matchers, awsAccounts: plan.awsAccounts }, plan, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`latchkey ${error.message}\n`);
      return 2;
    }
    if (error instanceof ScanFailure || error instanceof MatcherFetchError) {
      io.stderr.write(`latchkey scan: ${error.message}\n`);
      return 2;
    }
    const path = (error as { path?: unknown }).path;
    const where = typeof path === "string" ? `cannot read ${path}: ` : "";
    io.stderr.write(`latchkey scan: ${where}${describeError(error)}\n`);
    return 2;
  }
}

/** The plan, or undefined for --help. */
function parse(argv: readonly string[], io: ScanIo): Plan | undefined {
  // `--redact` takes an optional value, which node's parser cannot express: a bare one means stdout.
  const args = argv.map((arg) => (arg === "--redact" ? "--redact=-" : arg));
  const { flags, positionals } = parseFlags(
    args,
    {
      format: { type: "string" },
      redact: { type: "string" },
      "aws-account": { type: "string", multiple: true },
      session: { type: "string", multiple: true },
      broker: { type: "string" },
    },
    "scan",
  );
  if (flags.help === true) return undefined;
  const format = (flags.format as string | undefined) ?? "text";
  if (!FORMATS.includes(format as Format)) {
    throw new UsageError(
      `scan: --format must be one of ${FORMATS.join(", ")}, not ${JSON.stringify(format)}`,
    );
  }
  const awsAccounts = (flags["aws-account"] as string[] | undefined) ?? [];
  for (const account of awsAccounts) {
    if (!/^\d{12}$/.test(account)) throw new UsageError(`scan: --aws-account takes a 12-digit account id`);
  }
  const inputs = positionals.length === 0 ? ["-"] : positionals;
  const redact = flags.redact as string | undefined;
  if (redact !== undefined) {
    if (inputs.length !== 1)
      throw new UsageError("scan: --redact works on one input (a file or standard input)");
    if (redact !== "-" && inputs[0] !== "-" && resolve(redact) === resolve(inputs[0] as string)) {
      throw new UsageError("scan: --redact would overwrite the file being scanned");
    }
  }
  const sessions = [...new Set((flags.session as string[] | undefined) ?? [])];
  const broker = (flags.broker as string | undefined) ?? io.env.LATCHKEY_BROKER_URL ?? DEFAULT_BROKER;
  if (flags.broker !== undefined && sessions.length === 0) {
    throw new UsageError("scan: --broker is used with --session");
  }
  return { format: format as Format, inputs, redact, awsAccounts, sessions, broker };
}

/** The matchers of every session named, fetched side by side; any failure names its session. */
async function loadMatchers(
  sessionIds: readonly string[],
  broker: string,
  env: NodeJS.ProcessEnv,
): Promise<IssuedMatcher[]> {
  if (sessionIds.length === 0) return [];
  const apiKey = env.LATCHKEY_API_KEY;
  if (apiKey === undefined || apiKey === "") {
    throw new ScanFailure("--session needs the broker API key in LATCHKEY_API_KEY");
  }
  const loaded = await Promise.all(
    sessionIds.map((sessionId) =>
      fetchMatchers({ broker, sessionId, apiKey }).catch((error: unknown) => {
        throw error instanceof MatcherFetchError && sessionIds.length > 1
          ? new MatcherFetchError(`session ${sessionId}: ${error.message}`)
          : error;
      }),
    ),
  );
  return loaded.flat();
}

/** The files named, directories walked; `-` for standard input stays as it is. */
async function inputPaths(plan: Plan, onSkip: (path: string) => void): Promise<string[]> {
  const paths: string[] = [];
  for (const name of plan.inputs) {
    if (name === "-") {
      paths.push(name);
      continue;
    }
    try {
      for await (const file of inputFiles([name], { onSkip })) paths.push(file.path);
    } catch (error) {
      throw new ScanFailure(`cannot read ${name}: ${describeError(error)}`);
    }
  }
  return paths;
}

async function scanAll(options: ScannerOptions, plan: Plan, io: ScanIo): Promise<number> {
  const started = performance.now();
  const findings: Finding[] = [];
  const progress = new Progress(io, started, () => findings.length);
  const redactFile =
    plan.redact === undefined || plan.redact === "-" ? undefined : await openOutput(plan.redact);
  const redactTo = plan.redact === "-" ? io.stdout : redactFile?.stream;
  const reportTo = plan.redact === "-" ? io.stderr : io.stdout;
  let scanned = 0;
  let skipped = 0;
  let bytes = 0;
  try {
    const paths = await inputPaths(plan, () => skipped++);
    const threads = paths.includes("-") || redactTo !== undefined ? 1 : await threadsFor(paths);
    if (threads > 1 && paths.length > 1) {
      const onScanned = (scan: FileScan) => progress.add(scan.bytes);
      await scanInParallel(paths, { ...options, threads, onScanned }, (scan) => {
        findings.push(...scan.findings);
        scanned++;
        bytes += scan.bytes;
      });
    } else {
      const scanner = createScanner(options);
      const files = readAhead(paths.filter((path) => path !== "-"));
      try {
        for (const path of paths) {
          const stdin = path === "-";
          const file = stdin ? undefined : (await files.next()).value;
          const chunks = file === undefined ? io.stdin : file.chunks();
          const result = await scanner.scan(progress.counting(chunks), {
            ...(stdin ? {} : { path }),
            ...(redactTo === undefined ? {} : { redactTo }),
            onFinding: (finding) => findings.push(finding),
          });
          scanned++;
          bytes += result.bytes;
        }
      } finally {
        await files.return(undefined);
      }
    }
  } finally {
    progress.clear();
    await redactFile?.close();
  }
  const summary = summarize(findings, {
    files: scanned,
    skipped,
    bytes,
    durationMs: Math.round(performance.now() - started),
  });
  const report =
    plan.format === "json"
      ? formatJson(findings, summary)
      : plan.format === "sarif"
        ? formatSarif(findings, options.rules ?? defaultRules, version)
        : formatText(findings, summary);
  reportTo.write(report);
  return findings.length > 0 ? 1 : 0;
}

async function threadsFor(paths: readonly string[]): Promise<number> {
  let total = 0;
  for (const path of paths) total += (await stat(path)).size;
  return Math.min(availableParallelism(), 1 + Math.floor(total / BYTES_PER_THREAD));
}

interface Output {
  stream: NodeJS.WritableStream;
  close(): Promise<void>;
}

/** Opens FILE for writing now, so that a bad path fails before any scanning. */
async function openOutput(path: string): Promise<Output> {
  let handle: FileHandle;
  try {
    handle = await open(path, "w");
  } catch (error) {
    throw new ScanFailure(`cannot write ${path}: ${describeError(error)}`);
  }
  const stream = handle.createWriteStream();
  let failure: unknown;
  stream.on("error", (error) => {
    failure = error;
  });
  return {
    stream,
    async close() {
      if (!stream.closed) {
        stream.end();
        await once(stream, "close");
      }
      if (failure !== undefined) throw new ScanFailure(`cannot write ${path}: ${describeError(failure)}`);
    },
  };
}

/** The stderr progress line of a long scan, on a terminal only. */
class Progress {
  private bytes = 0;
  private shownAt = 0;
  private shown = false;

  constructor(
    private readonly io: ScanIo,
    private readonly started: number,
    private readonly findings: () => number,
  ) {}

  async *counting(chunks: AsyncIterable<Uint8Array | string>): AsyncGenerator<Uint8Array | string> {
    for await (const chunk of chunks) {
      this.add(typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk.length);
      yield chunk;
    }
  }

  add(bytes: number): void {
    this.bytes += bytes;
    if (this.io.isTTY) this.tick();
  }

  private tick(): void {
    const now = performance.now();
    if (now - this.started < PROGRESS_AFTER_MS || now - this.shownAt < PROGRESS_EVERY_MS) return;
    this.shownAt = now;
    this.shown = true;
    const rate = this.bytes / ((now - this.started) / 1000);
    this.io.stderr.write(
      `\r\x1b[2Kscanning: ${formatBytes(this.bytes)}, ${formatBytes(rate)}/s, ${this.findings()} found`,
    );
  }

  clear(): void {
    if (this.shown) this.io.stderr.write("\r\x1b[2K");
  }
}

function describeError(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (code === "ENOENT") return "no such file or directory";
  if (code === "EACCES") return "permission denied";
  if (code === "EISDIR") return "is a directory";
  return error instanceof Error ? error.message : String(error);
}
