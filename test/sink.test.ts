import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { FileProblemsError } from "../src/config/problems.js";
import type { CredentialWithSecret } from "../src/sessions/mint.js";
import type { CredentialRecord } from "../src/sessions/records.js";
import { renderLayout, type SinkCredential } from "../src/sink/layout.js";
import { sinkCredentialOf } from "../src/sink/session-sink.js";
import { mountOf, prepareSinkRoot } from "../src/sink/tmpfs.js";
import type { Store } from "../src/store/types.js";
import { bearer, createTestBroker, type TestBroker } from "./helpers/broker.js";
import { createTestClock, type TestClock } from "./helpers/clock.js";
import {
  assertNoSecretsLogged,
  endSession,
  filesHolding,
  jwtExpiry,
  openSession,
  readTree,
  sinkJwtScope,
  tmpfsDir,
} from "./helpers/sink.js";
import { storeFactories } from "./helpers/stores.js";

const random = (bytes = 20) => randomBytes(bytes).toString("hex");

function record(overrides: Partial<CredentialRecord>): CredentialRecord {
  return {
    id: `cred_${random(6)}`,
    sessionId: "layout-1",
    scope: "sandbox",
    grant: "api",
    provider: "jwt",
    purpose: "session",
    reference: {},
    fingerprint: random(32),
    issuedAt: Date.parse("2026-11-27T10:00:00Z"),
    expiresAt: Date.parse("2026-11-27T10:15:00Z"),
    state: "active",
    ...overrides,
  };
}

describe("sink layout", () => {
  // Synthetic values: the sink only formats what it is given.
  const aws1 = { AccessKeyId: random(10), SecretAccessKey: random(), SessionToken: random(40) };
  const aws2 = { AccessKeyId: random(10), SecretAccessKey: random(), SessionToken: random(40) };
  const repoToken = random();
  const docsToken = random();
  const jwtToken = `${random(10)}.${random(30)}.${random(20)}`;
  const agentToken = `lka_layout-1.${random()}`;
  const minted: CredentialWithSecret[] = [
    { record: record({ provider: "aws", grant: "artifacts" }), secret: aws1 },
    {
      record: record({ provider: "github", grant: "repo", reference: { gitHost: "git.example.test:8443" } }),
      secret: { token: repoToken },
    },
    { record: record({ provider: "aws", grant: "logs", scope: "other" }), secret: aws2 },
    {
      record: record({ provider: "github", grant: "docs", reference: { installationId: 7 } }),
      secret: { token: docsToken },
    },
    { record: record({ provider: "jwt", grant: "api" }), secret: { token: jwtToken } },
  ];
  const credentials = minted.map(sinkCredentialOf);
  const snapshot = {
    sessionId: "layout-1",
    expiresAt: Date.parse("2026-11-27T11:00:00Z"),
    agentToken,
    credentials,
  };

  test("a GitHub credential's git host comes from its reference, else github.com", () => {
    const hosts = credentials.flatMap((c) => (c.provider === "github" ? [c.gitHost] : []));
    assert.deepEqual(hosts, ["git.example.test:8443", "github.com"]);
  });

  test("every provider's files, with paths as the sandbox sees them", () => {
    const files = renderLayout(snapshot, {
      mountPoint: "/run/latchkey",
      metadataUrl: "http://127.0.0.1:8181",
      socket: true,
    });
    assert.deepEqual(
      files.map((f) => f.path),
      [
        "agent-token",
        "aws/credentials",
        "github/repo/token",
        "github/docs/token",
        "github/git-credentials",
        "jwt/api.jwt",
        "env",
        "manifest.json",
      ],
    );
    const content = new Map(files.map((f) => [f.path, f.content]));
    assert.equal(content.get("agent-token"), agentToken);
    assert.equal(content.get("github/repo/token"), repoToken);
    assert.equal(content.get("jwt/api.jwt"), jwtToken);
    const profile = (name: string, secret: Record<string, string>) =>
      `[${name}]\naws_access_key_id = ${secret.AccessKeyId}\naws_secret_access_key = ${secret.SecretAccessKey}\naws_session_token = ${secret.SessionToken}\n`;
    assert.equal(
      content.get("aws/credentials"),
      [profile("default", aws1), profile("artifacts", aws1), profile("logs", aws2)].join("\n"),
    );
    assert.equal(
      content.get("github/git-credentials"),
      `https://x-access-token:${repoToken}@git.example.test:8443\nhttps://x-access-token:${docsToken}@github.com\n`,
    );
    assert.equal(
      content.get("env"),
      [
        "LATCHKEY_METADATA_URL=http://127.0.0.1:8181",
        "LATCHKEY_AGENT_TOKEN_FILE=/run/latchkey/agent-token",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:8181/v1/credentials/aws/artifacts",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=/run/latchkey/agent-token",
        "AWS_SHARED_CREDENTIALS_FILE=/run/latchkey/aws/credentials",
        "GIT_CONFIG_COUNT=1",
        "GIT_CONFIG_KEY_0=credential.helper",
        "GIT_CONFIG_VALUE_0=store --file=/run/latchkey/github/git-credentials",
        "",
      ].join("\n"),
    );
    const manifest = content.get("manifest.json") ?? "";
    for (const secret of [
      agentToken,
      repoToken,
      docsToken,
      jwtToken,
      ...Object.values(aws1),
      ...Object.values(aws2),
    ]) {
      assert.equal(manifest.includes(secret), false, "the manifest holds no secret");
    }
    assert.deepEqual(JSON.parse(manifest), {
      sessionId: "layout-1",
      expiresAt: "2026-11-27T11:00:00.000Z",
      metadataUrl: "http://127.0.0.1:8181",
      socket: "/run/latchkey/latchkey.sock",
      grants: [
        {
          provider: "aws",
          grant: "artifacts",
          scope: "sandbox",
          expiresAt: "2026-11-27T10:15:00.000Z",
          files: ["/run/latchkey/aws/credentials"],
          profiles: ["default", "artifacts"],
        },
        {
          provider: "github",
          grant: "repo",
          scope: "sandbox",
          expiresAt: "2026-11-27T10:15:00.000Z",
          gitHost: "git.example.test:8443",
          files: ["/run/latchkey/github/repo/token", "/run/latchkey/github/git-credentials"],
        },
        {
          provider: "aws",
          grant: "logs",
          scope: "other",
          expiresAt: "2026-11-27T10:15:00.000Z",
          files: ["/run/latchkey/aws/credentials"],
          profiles: ["logs"],
        },
        {
          provider: "github",
          grant: "docs",
          scope: "sandbox",
          expiresAt: "2026-11-27T10:15:00.000Z",
          gitHost: "github.com",
          files: ["/run/latchkey/github/docs/token", "/run/latchkey/github/git-credentials"],
        },
        {
          provider: "jwt",
          grant: "api",
          scope: "sandbox",
          expiresAt: "2026-11-27T10:15:00.000Z",
          files: ["/run/latchkey/jwt/api.jwt"],
        },
      ],
    });
  });

  test("a sandbox reached only through its socket is told no URL; another mount point moves every path", () => {
    const jwtOnly: SinkCredential[] = credentials.filter((c) => c.provider !== "github");
    const files = renderLayout(
      { ...snapshot, credentials: jwtOnly },
      { mountPoint: "/sandbox/creds/", metadataUrl: undefined, socket: true },
    );
    assert.equal(
      files.find((f) => f.path === "env")?.content,
      [
        "LATCHKEY_AGENT_TOKEN_FILE=/sandbox/creds/agent-token",
        "AWS_SHARED_CREDENTIALS_FILE=/sandbox/creds/aws/credentials",
        "",
      ].join("\n"),
    );
    const manifest = JSON.parse(files.find((f) => f.path === "manifest.json")?.content ?? "{}");
    assert.equal(manifest.socket, "/sandbox/creds/latchkey.sock");
    assert.equal("metadataUrl" in manifest, false);
  });
});

describe("sink root checks", () => {
  const mountinfo = [
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw",
    "23 22 0:21 / /run rw,nosuid,nodev shared:5 - tmpfs tmpfs rw,size=1024k,mode=755",
    "24 23 0:22 / /run/with\\040space rw shared:6 - tmpfs tmpfs rw",
    "25 22 0:23 / /srv rw shared:7 - ext4 /dev/sdb1 rw",
    "26 25 0:24 / /srv/latchkey rw shared:8 - ramfs ramfs rw",
    "27 23 0:25 / /run/overmounted rw shared:9 - tmpfs tmpfs rw",
    "28 27 0:26 / /run/overmounted rw shared:10 - ext4 /dev/sdc1 rw",
  ].join("\n");

  test("the mount holding a path is the longest mount point above it, the last one mounted on ties", () => {
    const at = (path: string) => mountOf(path, mountinfo);
    assert.deepEqual(at("/run/latchkey/s1"), { mountPoint: "/run", fsType: "tmpfs" });
    assert.deepEqual(at("/runway"), { mountPoint: "/", fsType: "ext4" });
    assert.deepEqual(at("/run/with space/x"), { mountPoint: "/run/with space", fsType: "tmpfs" });
    assert.deepEqual(at("/srv/latchkey"), { mountPoint: "/srv/latchkey", fsType: "ramfs" });
    assert.deepEqual(at("/srv/other"), { mountPoint: "/srv", fsType: "ext4" });
    assert.deepEqual(at("/run/overmounted/x"), { mountPoint: "/run/overmounted", fsType: "ext4" });
  });

  const checked = async (
    root: string,
    options: { allowNonTmpfs?: boolean; unixSockets?: boolean; table?: string },
  ) => {
    const warnings: string[] = [];
    const real = existsSync(root) ? realpathSync(root) : root;
    await prepareSinkRoot(root, {
      allowNonTmpfs: options.allowNonTmpfs ?? false,
      field: "sink.root",
      override: "sink.allowNonTmpfs: true",
      unixSockets: options.unixSockets ?? false,
      create: true,
      warn: (message) => warnings.push(message),
      mountinfo: async () => options.table ?? `1 0 0:1 / ${real} rw - ext4 /dev/vda rw`,
    });
    return warnings;
  };
  const scratch = mkdtempSync(join(tmpdir(), "latchkey-sink-root-"));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  test("a root on a disk stops the start, naming the path and the fix", async () => {
    const root = join(scratch, "disk");
    mkdirSync(root);
    const real = realpathSync(root);
    await assert.rejects(checked(root, {}), (error: Error) => {
      assert.ok(error instanceof FileProblemsError);
      assert.equal(
        error.message,
        `${root}: sink.root: is on ext4 (mounted at ${real}), not tmpfs: credentials written there could reach a disk (fix: mount a tmpfs there (mount -t tmpfs -o size=64m,mode=0700 tmpfs ${real}) or choose a directory on one; sink.allowNonTmpfs: true accepts a disk (development only))`,
      );
      return true;
    });
  });

  test("allowNonTmpfs (development mode) accepts a disk with a warning", async () => {
    const root = join(scratch, "dev");
    mkdirSync(root);
    assert.deepEqual(await checked(root, { allowNonTmpfs: true }), [
      `${root}: is on ext4 (mounted at ${realpathSync(root)}), not tmpfs: credentials written there could reach a disk; accepted because of sink.allowNonTmpfs: true (development only)`,
    ]);
  });

  test("a missing root is created 0700; one under a tmpfs mount passes quietly", async () => {
    const root = join(scratch, "new", "root");
    assert.deepEqual(await checked(root, { table: `1 0 0:1 / ${scratch} rw - tmpfs tmpfs rw` }), []);
    assert.equal(statSync(root).mode & 0o777, 0o700);
  });

  test("a root that is a link, or too long for socket paths, is refused", async () => {
    const target = join(scratch, "target");
    mkdirSync(target);
    const link = join(scratch, "link");
    symlinkSync(target, link);
    await assert.rejects(checked(link, { allowNonTmpfs: true }), (error: Error) => {
      assert.equal(
        error.message,
        `${link}: sink.root: is a symbolic link; the sink never writes through links (fix: set sink.root to the directory the link points to)`,
      );
      return true;
    });
    const deep = join(scratch, "d".repeat(60));
    mkdirSync(deep);
    await assert.rejects(checked(deep, { allowNonTmpfs: true, unixSockets: true }), (error: Error) => {
      assert.match(
        error.message,
        /sink\.root: is too long for Unix socket paths under it \(at most 44 characters\)/,
      );
      return true;
    });
  });

  test("on this machine, /dev/shm is found to be tmpfs and the check passes without any allowance", async () => {
    const root = tmpfsDir("root-check");
    try {
      const warnings: string[] = [];
      await prepareSinkRoot(root, {
        allowNonTmpfs: false,
        field: "sink.root",
        override: "sink.allowNonTmpfs: true",
        create: false,
        warn: (message) => warnings.push(message),
      });
      assert.deepEqual(warnings, []);
      assert.equal(
        mountOf(realpathSync(root), readFileSync("/proc/self/mountinfo", "utf8"))?.fsType,
        "tmpfs",
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

for (const factory of storeFactories()) {
  describe(`broker-side sink (${factory.name} store)`, () => {
    let store: Store;
    let broker: TestBroker;
    let clock: TestClock;
    let root: string;
    let outside: string;
    const secrets = new Set<string>();
    const owner = { uid: 4242, gid: 4343 };

    before(async () => {
      store = await factory.create();
      clock = createTestClock(Date.now());
      root = tmpfsDir("sink");
      outside = mkdtempSync(join(tmpdir(), "latchkey-sink-outside-"));
      broker = await createTestBroker({
        store,
        clock,
        scopes: [sinkJwtScope],
        config: { metadataUrl: "http://127.0.0.1:8181", sink: { root, ...owner } },
      });
    });
    after(async () => {
      await broker.sink?.stop();
      await broker.close();
      await store.close();
      rmSync(root, { recursive: true, force: true });
      rmSync(outside, { recursive: true, force: true });
    });

    const sink = () => {
      assert.ok(broker.sink, "the broker has a sink when sink is configured");
      return broker.sink;
    };
    const file = (sessionId: string, path: string) => readFileSync(join(root, sessionId, path), "utf8");
    /** Moves the clock and lets the sink look, as its timers would; remembers what the files then hold. */
    const advance = async (ms: number, sessionId: string) => {
      clock.advance(ms);
      await sink().refreshDue();
      secrets.add(file(sessionId, "jwt/api.jwt"));
      secrets.add(file(sessionId, "jwt/deploy.jwt"));
    };

    test("a session's directory: the layout, modes 0700/0400, handed to the configured owner", async () => {
      const opened = await openSession(broker, "sink-layout", secrets);
      const dir = join(root, "sink-layout");
      const tree = readTree(dir);
      assert.deepEqual([...tree.keys()].sort(), [
        "agent-token",
        "env",
        "jwt/api.jwt",
        "jwt/deploy.jwt",
        "manifest.json",
      ]);
      for (const path of [dir, join(dir, "jwt")]) {
        const stats = statSync(path);
        assert.equal(stats.mode & 0o777, 0o700, path);
        assert.deepEqual([stats.uid, stats.gid], [owner.uid, owner.gid], path);
      }
      for (const name of tree.keys()) {
        const stats = statSync(join(dir, name));
        assert.equal(stats.mode & 0o777, 0o400, name);
        assert.deepEqual([stats.uid, stats.gid], [owner.uid, owner.gid], name);
      }
      assert.equal(tree.get("agent-token")?.toString(), opened.agentToken);
      const byGrant = new Map(opened.credentials.map((c) => [c.grant, c.secret.token]));
      assert.equal(tree.get("jwt/api.jwt")?.toString(), byGrant.get("api"));
      assert.equal(tree.get("jwt/deploy.jwt")?.toString(), byGrant.get("deploy"));
      assert.equal(
        tree.get("env")?.toString(),
        "LATCHKEY_METADATA_URL=http://127.0.0.1:8181\nLATCHKEY_AGENT_TOKEN_FILE=/run/latchkey/agent-token\n",
      );
      const manifest = JSON.parse(tree.get("manifest.json")?.toString() ?? "{}");
      assert.deepEqual(
        manifest.grants.map((g: any) => [g.grant, g.expiresAt]),
        [
          ["api", new Date(jwtExpiry(byGrant.get("api") ?? "")).toISOString()],
          ["deploy", new Date(jwtExpiry(byGrant.get("deploy") ?? "")).toISOString()],
        ],
      );
      assert.deepEqual(filesHolding(dir, [...secrets]).sort(), [
        "agent-token",
        "jwt/api.jwt",
        "jwt/deploy.jwt",
      ]);
      await endSession(broker, "sink-layout");
    });

    test("files are replaced before their credential expires, on the metadata endpoint's schedule", async () => {
      const opened = await openSession(broker, "sink-refresh", secrets);
      const first = file("sink-refresh", "jwt/api.jwt");
      assert.equal(first, opened.credentials.find((c) => c.grant === "api")?.secret.token);
      // 30 s lifetime: not yet due with more than a third (10 s) left.
      await advance(19_000, "sink-refresh");
      assert.equal(file("sink-refresh", "jwt/api.jwt"), first);
      await advance(1_000, "sink-refresh");
      const second = file("sink-refresh", "jwt/api.jwt");
      assert.notEqual(second, first);
      assert.ok(jwtExpiry(first) > clock.now(), "the old token was replaced while it was still valid");
      // Whatever the step (under a third of the lifetime), the file never holds an expired token.
      const seen = new Set([first, second]);
      for (let step = 0; step < 40; step++) {
        await advance(9_000, "sink-refresh");
        const current = file("sink-refresh", "jwt/api.jwt");
        seen.add(current);
        assert.ok(jwtExpiry(current) > clock.now(), `step ${step}: the file holds a live token`);
        const manifest = JSON.parse(file("sink-refresh", "manifest.json"));
        assert.equal(manifest.grants[0].expiresAt, new Date(jwtExpiry(current)).toISOString());
      }
      assert.ok(seen.size >= 15, `refreshed ${seen.size} times`);
      // A refresh the agent's own read causes reaches the files too, with no look from the sink.
      clock.advance(20_000);
      const read = await broker.apps.metadata.inject({
        url: "/v1/credentials/jwt/api",
        headers: { authorization: opened.agentToken },
      });
      assert.equal(read.statusCode, 200);
      assert.equal(file("sink-refresh", "jwt/api.jwt"), read.json().token);
      secrets.add(read.json().token);
      await endSession(broker, "sink-refresh");
    });

    test("a reader running through 1,000 refreshes only ever sees complete files", async () => {
      await openSession(broker, "sink-readers", secrets);
      const dir = join(root, "sink-readers");
      const stopFile = join(outside, "stop-readers");
      const reader = spawn(process.execPath, ["--input-type=module", "-e", readerScript, dir, stopFile], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      reader.stdout.on("data", (chunk) => {
        output += chunk;
      });
      const exited = new Promise<number | null>((resolve) => reader.on("exit", resolve));
      await new Promise<void>((resolve, reject) => {
        reader.stderr.once("data", () => resolve());
        reader.once("exit", () => reject(new Error("the reader stopped before reading")));
      });
      const tokens = new Set<string>();
      for (let i = 0; i < 1000; i++) {
        clock.advance(20_000);
        await sink().refreshDue();
        tokens.add(file("sink-readers", "jwt/api.jwt"));
      }
      writeFileSync(stopFile, "");
      assert.equal(await exited, 0);
      const result = JSON.parse(output) as {
        reads: number;
        failures: Record<string, number>;
        distinct: number;
      };
      assert.equal(tokens.size, 1000, "1,000 refreshes");
      assert.deepEqual(result.failures, {});
      assert.ok(result.reads > 1000, `${result.reads} reads`);
      assert.ok(result.distinct > 10, `the reader saw ${result.distinct} versions`);
      for (const token of tokens) secrets.add(token);
      await endSession(broker, "sink-readers");
    });

    test("at the end every file is zeroed in place and removed, then the directory; no temp file keeps a secret", async () => {
      const own = new Set<string>();
      await openSession(broker, "sink-end", own);
      const dir = join(root, "sink-end");
      for (let i = 0; i < 3; i++) {
        clock.advance(20_000);
        await sink().refreshDue();
        for (const [name, content] of readTree(dir))
          if (name !== "env" && name !== "manifest.json") own.add(content.toString());
      }
      // What a crash between writing a temp file and renaming it would leave behind.
      writeFileSync(join(dir, "jwt", `.api.jwt.tmp-${random(6)}`), file("sink-end", "jwt/api.jwt"));
      const held = [...readTree(dir).keys()].map((name) => {
        const fd = openSync(join(dir, name), "r");
        return { name, fd, size: statSync(join(dir, name)).size };
      });
      await endSession(broker, "sink-end");
      assert.equal(existsSync(dir), false, "the session directory is gone");
      assert.equal(readdirSync(root).includes("sink-end"), false);
      assert.ok(own.size >= 5);
      assert.deepEqual(filesHolding(root, own), [], "no file left under the root holds one of its secrets");
      for (const secret of own) secrets.add(secret);
      for (const { name, fd, size } of held) {
        const bytes = Buffer.alloc(size);
        readSync(fd, bytes, 0, size, 0);
        closeSync(fd);
        assert.ok(
          size > 0 && bytes.equals(Buffer.alloc(size)),
          `${name} was overwritten with zeros before removal`,
        );
      }
    });

    test("a session directory, or a directory in it, that is a link is never written through", async () => {
      const target = join(outside, "target");
      mkdirSync(target);
      symlinkSync(target, join(root, "sink-linked"));
      await openSession(broker, "sink-linked", secrets);
      assert.deepEqual(readdirSync(target), []);
      assert.match(
        broker.logs.join(""),
        /sink-linked is a symbolic link; the sink never writes through links/,
      );
      await endSession(broker, "sink-linked");
      assert.equal(existsSync(join(root, "sink-linked")), false, "the link itself is removed");
      assert.deepEqual(readdirSync(target), [], "and its target left alone");

      await openSession(broker, "sink-sublink", secrets);
      const jwtDir = join(root, "sink-sublink", "jwt");
      rmSync(jwtDir, { recursive: true });
      symlinkSync(target, jwtDir);
      clock.advance(20_000);
      await sink().refreshDue();
      assert.deepEqual(readdirSync(target), []);
      assert.match(broker.logs.join(""), /sink could not refresh the session's files; retrying/);
      await endSession(broker, "sink-sublink");
      assert.equal(existsSync(join(root, "sink-sublink")), false);
      assert.deepEqual(readdirSync(target), []);
    });

    test("an expired session's files are wiped at the sink's next look", async () => {
      await openSession(broker, "sink-expires", secrets, ["sandbox"], 120);
      clock.advance(121_000);
      await sink().refreshDue();
      assert.equal(existsSync(join(root, "sink-expires")), false);
    });

    test("no secret the sink handled is in the logs or the audit export", async () => {
      await assertNoSecretsLogged(broker, secrets);
      const agentReads = await broker.apps.api.inject({
        url: "/v1/audit?sessionId=sink-refresh&action=credential.read&limit=1",
        headers: bearer(broker.keys.auditor),
      });
      assert.equal(agentReads.json().events[0].actor, "agent:sink-refresh");
    });
  });
}

/**
 * Reads the session's files in a tight loop until the stop file appears. Failures are counted by
 * kind, never quoted, so no file content reaches the test's output.
 */
const readerScript = `
import { existsSync, readFileSync } from "node:fs";
import { createHash } from "node:crypto";
const [dir, stopFile] = process.argv.slice(1);
const failures = {};
const fail = (kind) => { failures[kind] = (failures[kind] ?? 0) + 1; };
const versions = new Set();
let reads = 0;
let announced = false;
while (!existsSync(stopFile)) {
  let jwt, manifest, env, token;
  try {
    jwt = readFileSync(dir + "/jwt/api.jwt", "utf8");
    manifest = readFileSync(dir + "/manifest.json", "utf8");
    env = readFileSync(dir + "/env", "utf8");
    token = readFileSync(dir + "/agent-token", "utf8");
  } catch (error) {
    fail("unreadable:" + error.code);
    continue;
  }
  reads++;
  const parts = jwt.split(".");
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) fail("jwt");
  else {
    try { JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8")); } catch { fail("jwt-payload"); }
  }
  try {
    if (JSON.parse(manifest).grants.length !== 2) fail("manifest-grants");
  } catch { fail("manifest"); }
  if (!env.endsWith("\\n") || env.split("\\n").length !== 3) fail("env");
  if (!token.startsWith("lka_sink-readers.")) fail("agent-token");
  versions.add(createHash("sha256").update(jwt).digest("hex"));
  if (!announced) { process.stderr.write("reading\\n"); announced = true; }
}
process.stdout.write(JSON.stringify({ reads, failures, distinct: versions.size }));
`;
