import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { runScanCommand } from "../src/scanner/cli.js";
import { createScanner } from "../src/scanner/engine.js";
import { fileInput, readAhead } from "../src/scanner/files.js";
import { buildMatchers } from "../src/scanner/matchers.js";
import { type FileScan, scanInParallel } from "../src/scanner/parallel.js";
import { until } from "./helpers/until.js";
import { key, Sink } from "./scanner/support.js";
import { Rng, tokens } from "./scanner/tokens.js";

const rng = new Rng(777);
const githubToken = tokens.githubClassic(rng);
const issuedToken = tokens.githubClassic(rng, "ghs");
const apiKey = `lk_${tokens.randomValue(rng, 32)}`;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function scan(
  argv: string[],
  options: { stdin?: Readable; env?: NodeJS.ProcessEnv; isTTY?: boolean } = {},
): Promise<Run> {
  const stdout = new Sink();
  const stderr = new Sink();
  const code = await runScanCommand(argv, {
    stdout,
    stderr,
    stdin: options.stdin ?? Readable.from([]),
    env: options.env ?? {},
    isTTY: options.isTTY ?? false,
  });
  const run = { code, stdout: stdout.text(), stderr: stderr.text() };
  for (const secret of [githubToken, issuedToken, apiKey]) {
    assert.ok(!run.stdout.includes(secret) && !run.stderr.includes(secret), "no output carries a secret");
  }
  return run;
}

let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "latchkey-scan-"));
  await writeFile(join(dir, "clean.txt"), "nothing to see here\n".repeat(100));
  await writeFile(join(dir, "leak.log"), `line one\nexport GITHUB_TOKEN=${githubToken}\n`);
  await mkdir(join(dir, "tree", "nested", ".git"), { recursive: true });
  await writeFile(join(dir, "tree", "a.txt"), "fine\n");
  await writeFile(join(dir, "tree", "nested", "b.env"), `GH_TOKEN=${githubToken}\n`);
  await writeFile(join(dir, "tree", "nested", ".git", "config"), `token = ${githubToken}\n`);
  await writeFile(
    join(dir, "tree", "nested", "image.bin"),
    Buffer.concat([Buffer.from([0, 1, 2]), Buffer.from(githubToken)]),
  );
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("latchkey scan: exit codes and formats", () => {
  test("0 when clean", async () => {
    const run = await scan([join(dir, "clean.txt")]);
    assert.equal(run.code, 0);
    assert.equal(run.stdout, "No secrets found (1 input, 2.0 kB).\n");
    assert.equal(run.stderr, "");
  });

  test("1 with findings, text by default", async () => {
    const path = join(dir, "leak.log");
    const run = await scan([path]);
    assert.equal(run.code, 1);
    const [first, blank, last] = run.stdout.split("\n");
    assert.match(first ?? "", /^.*:2:21 {2}high {6}github-token {2}ghp_… {2}\(fingerprint [0-9a-f]{12}\)$/);
    assert.ok(first?.startsWith(`${path}:`));
    assert.equal(blank, "");
    assert.equal(last, "1 secret found (1 high) in 1 input, 70 B.");
    assert.ok(!run.stdout.includes(githubToken));
  });

  test("--format json and sarif", async () => {
    const json = await scan([join(dir, "leak.log"), "--format", "json"]);
    assert.equal(json.code, 1);
    const parsed = JSON.parse(json.stdout) as {
      findings: Array<{ ruleId: string; line: number }>;
      summary: { findings: number };
    };
    assert.deepEqual(
      parsed.findings.map((f) => [f.ruleId, f.line]),
      [["github-token", 2]],
    );
    assert.equal(parsed.summary.findings, 1);
    const sarif = await scan([join(dir, "leak.log"), "--format=sarif"]);
    assert.equal(sarif.code, 1);
    const log = JSON.parse(sarif.stdout) as { version: string; runs: Array<{ results: unknown[] }> };
    assert.equal(log.version, "2.1.0");
    assert.equal(log.runs[0]?.results.length, 1);
  });

  test("directories: recursive, without .git or binary files", async () => {
    const run = await scan([join(dir, "tree"), "--format", "json"]);
    assert.equal(run.code, 1);
    const parsed = JSON.parse(run.stdout) as {
      findings: Array<{ path: string }>;
      summary: { files: number; skipped: number };
    };
    assert.deepEqual(
      parsed.findings.map((f) => f.path),
      [join(dir, "tree", "nested", "b.env")],
    );
    assert.equal(parsed.summary.files, 2);
    assert.equal(parsed.summary.skipped, 1);
  });

  test("standard input, as - or with no path", async () => {
    for (const argv of [["-"], []]) {
      const run = await scan(argv, {
        stdin: Readable.from([Buffer.from(`x ${githubToken.slice(0, 20)}`), githubToken.slice(20)]),
      });
      assert.equal(run.code, 1);
      assert.match(run.stdout, /^<stdin>:1:3 /);
    }
  });

  test("2 on errors: unknown flag with a hint, bad values, missing files", async () => {
    const unknown = await scan(["--formt", "json"]);
    assert.equal(unknown.code, 2);
    assert.equal(
      unknown.stderr,
      "latchkey scan: unknown flag --formt; did you mean --format? (see `latchkey scan --help`)\n",
    );
    const format = await scan(["--format", "xml"]);
    assert.equal(format.code, 2);
    assert.match(format.stderr, /--format must be one of text, json, sarif/);
    const account = await scan(["--aws-account", "12"]);
    assert.equal(account.code, 2);
    const missing = await scan([join(dir, "nope.txt")]);
    assert.equal(missing.code, 2);
    assert.equal(
      missing.stderr,
      `latchkey scan: cannot read ${join(dir, "nope.txt")}: no such file or directory\n`,
    );
    assert.equal(missing.stdout, "");
  });

  test("--help", async () => {
    const run = await scan(["--help"]);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /^Usage: latchkey scan \[PATH\.\.\.\|-\] \[options\]/);
    assert.match(run.stdout, /--redact\[=FILE\]/);
  });

  test("--aws-account marks keys of that account as ours", async () => {
    const key = tokens.awsKeyId(rng, "AKIA", "111122223333");
    const run = await scan(["--aws-account", "111122223333", "--format", "json"], {
      stdin: Readable.from([key]),
    });
    const parsed = JSON.parse(run.stdout) as {
      findings: Array<{ awsAccountId: string; accountKnown: boolean }>;
    };
    assert.deepEqual(
      parsed.findings[0] && [parsed.findings[0].awsAccountId, parsed.findings[0].accountKnown],
      ["111122223333", true],
    );
  });
});

describe("latchkey scan --redact", () => {
  test("to standard output: the copy on stdout, the report on stderr", async () => {
    const input = `a\nGITHUB_TOKEN=${githubToken}\nb\n`;
    const stdout = new Sink();
    const stderr = new Sink();
    const code = await runScanCommand(["--redact"], {
      stdout,
      stderr,
      stdin: Readable.from([input]),
      env: {},
      isTTY: false,
    });
    assert.equal(code, 1);
    assert.match(stdout.text(), /^a\nGITHUB_TOKEN=\[REDACTED:github-token:[0-9a-f]{8}\]\nb\n$/);
    assert.match(stderr.text(), /1 secret found/);
  });

  test("to a file", async () => {
    const out = join(dir, "redacted.log");
    const run = await scan([join(dir, "leak.log"), `--redact=${out}`]);
    assert.equal(run.code, 1);
    assert.match(
      await readFile(out, "utf8"),
      /^line one\nexport GITHUB_TOKEN=\[REDACTED:github-token:[0-9a-f]{8}\]\n$/,
    );
  });

  test("refuses several inputs, and overwriting the input", async () => {
    const several = await scan([join(dir, "leak.log"), join(dir, "clean.txt"), "--redact"]);
    assert.equal(several.code, 2);
    assert.match(several.stderr, /--redact works on one input/);
    const same = await scan([join(dir, "leak.log"), `--redact=${join(dir, "leak.log")}`]);
    assert.equal(same.code, 2);
    assert.match(same.stderr, /would overwrite the file being scanned/);
    const unwritable = await scan([join(dir, "leak.log"), `--redact=${join(dir, "no", "such", "dir")}`]);
    assert.equal(unwritable.code, 2);
    assert.match(unwritable.stderr, /cannot write .*: no such file or directory/);
  });
});

describe("latchkey scan --session", () => {
  let server: Server;
  let broker: string;
  const seen: IncomingMessage[] = [];
  let answer: { status: number; body: unknown } = { status: 200, body: {} };
  /** Answers by request path, when set; `answer` otherwise. */
  let answers: Map<string, { status: number; body: unknown }> | undefined;

  before(async () => {
    server = createServer((request, response) => {
      seen.push(request);
      const reply = answers?.get(request.url ?? "") ?? answer;
      response.writeHead(reply.status, {
        "content-type": reply.status === 200 ? "application/json" : "application/problem+json",
      });
      response.end(JSON.stringify(reply.body));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    broker = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  test("loads the session's matchers and finds what was issued", async () => {
    const matchers = buildMatchers(issuedToken, {
      credentialId: "cred_42",
      sessionId: "sess-7",
      provider: "github",
    });
    answer = { status: 200, body: { matchers } };
    const encoded = Buffer.from(`{"token":"${issuedToken}"}`).toString("base64");
    const run = await scan(["--session", "sess-7", "--broker", broker, "--format", "json"], {
      stdin: Readable.from([`log: ${encoded}\n`]),
      env: { LATCHKEY_API_KEY: apiKey },
    });
    assert.equal(run.code, 1, run.stderr);
    const request = seen.at(-1);
    assert.equal(request?.url, "/v1/sessions/sess-7/matchers");
    assert.equal(request?.headers.authorization, `Bearer ${apiKey}`);
    const parsed = JSON.parse(run.stdout) as { findings: Array<Record<string, unknown>> };
    assert.deepEqual(
      parsed.findings.map((f) => [f.ruleId, f.credentialId, f.sessionId, f.encoding]),
      [["latchkey-issued", "cred_42", "sess-7", "base64"]],
    );
  });

  test("several --session flags: the matchers of each, and a failure names its session", async () => {
    const secondToken = `ghs_${"Zq8".repeat(12)}`;
    const ref = (n: number) => ({ credentialId: `cred_${n}`, sessionId: `sess-${n}`, provider: "github" });
    answers = new Map([
      [
        "/v1/sessions/sess-1/matchers",
        { status: 200, body: { matchers: buildMatchers(issuedToken, ref(1)) } },
      ],
      [
        "/v1/sessions/sess-2/matchers",
        { status: 200, body: { matchers: buildMatchers(secondToken, ref(2)) } },
      ],
      [
        "/v1/sessions/sess-3/matchers",
        { status: 403, body: { code: "FORBIDDEN", detail: "Not your session." } },
      ],
    ]);
    try {
      const input = `a ${Buffer.from(secondToken).toString("hex")}\nb ${issuedToken}\n`;
      const both = await scan(
        [
          "--session",
          "sess-1",
          "--session",
          "sess-2",
          "--session",
          "sess-1",
          "--broker",
          broker,
          "--format",
          "json",
        ],
        { stdin: Readable.from([input]), env: { LATCHKEY_API_KEY: apiKey } },
      );
      assert.equal(both.code, 1, both.stderr);
      const parsed = JSON.parse(both.stdout) as { findings: Array<Record<string, unknown>> };
      assert.deepEqual(
        parsed.findings
          .filter((f) => f.ruleId === "latchkey-issued")
          .map((f) => [f.sessionId, f.encoding, f.line]),
        [
          ["sess-2", "hex", 1],
          ["sess-1", "raw", 2],
        ],
      );
      const refused = await scan(["--session", "sess-1", "--session", "sess-3", "--broker", broker], {
        env: { LATCHKEY_API_KEY: apiKey },
      });
      assert.equal(refused.code, 2);
      assert.equal(
        refused.stderr,
        "latchkey scan: session sess-3: the broker answered 403 FORBIDDEN: Not your session.\n",
      );
    } finally {
      answers = undefined;
    }
  });

  test("an HTTP error is exit 2 with the problem's code and detail", async () => {
    answer = {
      status: 404,
      body: {
        type: "about:blank",
        title: "No such session",
        status: 404,
        code: "SESSION_NOT_FOUND",
        detail: "No session sess-8.",
      },
    };
    const run = await scan(["--session", "sess-8", "--broker", broker], {
      env: { LATCHKEY_API_KEY: apiKey },
    });
    assert.equal(run.code, 2);
    assert.equal(
      run.stderr,
      "latchkey scan: the broker answered 404 SESSION_NOT_FOUND: No session sess-8.\n",
    );
  });

  test("a malformed answer, a missing key, an unreachable broker: exit 2", async () => {
    answer = { status: 200, body: { matchers: [{ credentialId: "x" }] } };
    const malformed = await scan(["--session", "sess-9", "--broker", broker], {
      env: { LATCHKEY_API_KEY: apiKey },
    });
    assert.equal(malformed.code, 2);
    assert.match(malformed.stderr, /the broker's answer is not a list of matchers \(matchers\.0\./);
    const keyless = await scan(["--session", "sess-9", "--broker", broker]);
    assert.equal(keyless.code, 2);
    assert.equal(keyless.stderr, "latchkey scan: --session needs the broker API key in LATCHKEY_API_KEY\n");
    const closed = await scan(["--session", "sess-9", "--broker", "http://127.0.0.1:9"], {
      env: { LATCHKEY_API_KEY: apiKey },
    });
    assert.equal(closed.code, 2);
    assert.match(closed.stderr, /cannot reach the broker at http:\/\/127\.0\.0\.1:9/);
    const badId = await scan(["--session", "../x", "--broker", broker], {
      env: { LATCHKEY_API_KEY: apiKey },
    });
    assert.equal(badId.code, 2);
    assert.match(badId.stderr, /is not a session id/);
  });
});

describe("scanning files on several threads", () => {
  const matchers = buildMatchers(issuedToken, {
    credentialId: "cred_9",
    sessionId: "sess-9",
    provider: "github",
  });
  let paths: string[];

  before(async () => {
    paths = [];
    for (let i = 0; i < 7; i++) {
      const path = join(dir, `many-${i}.log`);
      const lines = Array.from({ length: 200 * (i + 1) }, (_, n) => `line ${n} of file ${i}\n`);
      lines.splice(
        i * 50,
        0,
        `GITHUB_TOKEN=${githubToken}\n`,
        `issued ${Buffer.from(issuedToken).toString("hex")}\n`,
      );
      await writeFile(path, lines.join(""));
      paths.push(path);
    }
  });

  test("findings come back in file order, the same as on one thread", async () => {
    const scanner = createScanner({ matchers });
    const expected: string[] = [];
    for (const path of paths) {
      for (const finding of (await scanner.scan(fileInput(path).chunks(), { path })).findings) {
        expected.push(`${finding.path} ${key(finding)}`);
      }
    }
    const scans: FileScan[] = [];
    await scanInParallel(paths, { matchers, threads: 3 }, (scan) => scans.push(scan));
    assert.deepEqual(
      scans.map((scan) => scan.path),
      paths,
    );
    assert.deepEqual(
      scans.flatMap((scan) => scan.findings.map((finding) => `${finding.path} ${key(finding)}`)),
      expected,
    );
    assert.equal(expected.length, 2 * paths.length);
  });

  test("read buffers serve file after file without one file's bytes showing in the next", async () => {
    // Over a megabyte, so the token lands past the first read; then short files, read into the
    // same buffers, whose bytes must end where each file ends.
    await mkdir(join(dir, "reuse"));
    const long = join(dir, "reuse", "long.log");
    await writeFile(long, `${"x".repeat(1024 * 1024 + 100)}\nGITHUB_TOKEN=${githubToken}\n`);
    const short = join(dir, "reuse", "short.log");
    await writeFile(short, "short and clean\n");
    const scanner = createScanner();
    for (const [path, bytes, found] of [
      [long, 1024 * 1024 + 115 + githubToken.length, 1],
      [short, 16, 0],
      [long, 1024 * 1024 + 115 + githubToken.length, 1],
      [short, 16, 0],
    ] as const) {
      let read = 0;
      for await (const chunk of fileInput(path).chunks()) read += chunk.length;
      assert.equal(read, bytes, path);
      const result = await scanner.scan(fileInput(path).chunks(), { path });
      assert.equal(result.bytes, bytes, path);
      assert.equal(result.findings.length, found, path);
    }
  });

  test("reading ahead: files in order, whole; a missing one fails when reached; nothing left open", async () => {
    const openFiles = async () => (await readdir("/proc/self/fd")).length;
    const collect = async (file: { chunks(): AsyncIterable<Uint8Array> }) => {
      const parts: Buffer[] = [];
      for await (const chunk of file.chunks()) parts.push(Buffer.from(chunk));
      return Buffer.concat(parts).toString("utf8");
    };
    const before = await openFiles();
    const read: string[] = [];
    for await (const file of readAhead(paths)) read.push(await collect(file));
    assert.deepEqual(read, await Promise.all(paths.map((path) => readFile(path, "utf8"))));

    const missing = join(dir, "not-there.log");
    const seen: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const file of readAhead([paths[0] as string, missing, paths[1] as string])) {
          seen.push(file.path);
          await collect(file);
        }
      })(),
      { code: "ENOENT", path: missing },
    );
    assert.deepEqual(seen, [paths[0], missing]);

    // Stopping early, or passing over a file without reading it, closes what was opened ahead.
    for await (const file of readAhead(paths)) {
      if (file.path === paths[1]) break;
    }
    for await (const file of readAhead(paths.slice(0, 1))) {
      await collect(file);
      assert.throws(() => file.chunks(), /can be read once/);
    }
    assert.equal(await openFiles(), before);
  });

  /**
   * A named pipe that holds up whichever thread reads it until `release` writes `content` and
   * closes it: with the calling thread held there, the workers scan the rest.
   */
  const pipe = (name: string) => {
    const path = join(dir, name);
    const made = spawnSync("mkfifo", [path]);
    assert.equal(made.status, 0, String(made.stderr));
    return { path, release: (content = "") => writeFile(path, content) };
  };

  test("while the calling thread is held up, workers scan the rest; results still come in file order", async () => {
    const held = pipe("held.log");
    const scanner = createScanner({ matchers });
    const heldContent = `held ${Buffer.from(issuedToken).toString("hex")}\n`;
    const expected = [`${held.path} 1`];
    for (const path of paths) {
      expected.push(`${path} ${(await scanner.scan(fileInput(path).chunks(), { path })).findings.length}`);
    }
    const scannedFirst: string[] = [];
    const reported: string[] = [];
    const scan = scanInParallel(
      [held.path, ...paths],
      { matchers, threads: 3, onScanned: (done) => scannedFirst.push(done.path) },
      (done) => reported.push(`${done.path} ${done.findings.length}`),
    );
    try {
      await until(() => scannedFirst.length === paths.length, "the workers scanned every other file");
      assert.deepEqual(reported, [], "nothing is reported before the first file");
    } finally {
      await held.release(heldContent);
    }
    await scan;
    assert.deepEqual(reported, expected);
    assert.equal(scannedFirst.at(-1), held.path);
  });

  test("a file that cannot be read fails the scan, naming it, on either thread", async () => {
    const missing = join(dir, "gone.log");
    // The calling thread reads it: it takes the first file at once.
    await assert.rejects(
      scanInParallel([missing, paths[0] as string], { threads: 2 }, () => {}),
      {
        code: "ENOENT",
        path: missing,
      },
    );
    // A worker reads it, the calling thread being held up by the first file.
    const held = pipe("held-while-failing.log");
    try {
      await assert.rejects(
        scanInParallel([held.path, missing], { threads: 2 }, () => {}),
        {
          code: "ENOENT",
          path: missing,
        },
      );
    } finally {
      await held.release();
    }
  });
});

describe("latchkey scan progress", () => {
  async function* slowly(): AsyncGenerator<Buffer> {
    for (let i = 0; i < 15; i++) {
      yield Buffer.alloc(1024, "a");
      await sleep(100);
    }
  }

  test("a progress line on a terminal, cleared at the end", async () => {
    const run = await scan([], { stdin: Readable.from(slowly()), isTTY: true });
    assert.equal(run.code, 0);
    const clear = "\r\x1b[2K";
    const lines = run.stderr.split(clear).filter((line) => line !== "");
    assert.ok(lines.length > 0);
    for (const line of lines) assert.match(line, /^scanning: [\d.]+ kB, [\d.]+ (B|kB)\/s, 0 found$/);
    assert.ok(run.stderr.startsWith(clear) && run.stderr.endsWith(clear));
  });

  test("none otherwise", async () => {
    const run = await scan([], { stdin: Readable.from(slowly()), isTTY: false });
    assert.equal(run.stderr, "");
  });
});
