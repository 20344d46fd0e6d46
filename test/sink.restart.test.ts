import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { stringify } from "yaml";
import { createBroker } from "../src/broker.js";
import { validateConfig } from "../src/config/load.js";
import { FileProblemsError } from "../src/config/problems.js";
import { sha256Hex } from "../src/crypto/hash.js";
import { createLogger } from "../src/logging.js";
import { generateSigningKey, generateSigningKeyFile } from "../src/providers/jwt/keys.js";
import { startServer } from "../src/server.js";
import { createMemoryStore } from "../src/store/memory.js";
import type { Store } from "../src/store/types.js";
import { bearer, compileScopes, type TestBroker } from "./helpers/broker.js";
import { createTestClock } from "./helpers/clock.js";
import { endSession, openSession, readTree, sinkJwtScope, tmpfsDir } from "./helpers/sink.js";
import { storeFactories } from "./helpers/stores.js";

/** A file reader that counts every moment a session's files are missing or incomplete. */
const watcherScript = `
import { existsSync, readFileSync } from "node:fs";
const [dir, stopFile] = process.argv.slice(1);
let reads = 0, gaps = 0;
while (!existsSync(stopFile)) {
  try {
    const token = readFileSync(dir + "/agent-token", "utf8");
    const jwt = readFileSync(dir + "/jwt/api.jwt", "utf8");
    if (!token.startsWith("lka_") || jwt.split(".").length !== 3) gaps++;
  } catch { gaps++; }
  if (++reads === 1) process.stderr.write("watching\\n");
}
process.stdout.write(JSON.stringify({ reads, gaps }));
`;

function watch(dir: string, stopFile: string) {
  const child = spawn(process.execPath, ["--input-type=module", "-e", watcherScript, dir, stopFile], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk) => {
    output += chunk;
  });
  const done = new Promise<{ reads: number; gaps: number }>((resolve, reject) =>
    child.on("exit", (code) =>
      code === 0 ? resolve(JSON.parse(output)) : reject(new Error(`watcher exited ${code}`)),
    ),
  );
  const started = new Promise<void>((resolve) => child.stderr.once("data", () => resolve()));
  return {
    started,
    stop() {
      writeFileSync(stopFile, "");
      return done;
    },
  };
}

for (const factory of storeFactories()) {
  describe(`a restarted broker and its sink (${factory.name} store)`, () => {
    let store: Store;
    let root: string;
    let scratch: string;
    const clock = createTestClock(Date.now());
    const secrets = new Set<string>();
    const orchestratorKey = `lk_test_${randomBytes(16).toString("hex")}`;
    let keys: Parameters<typeof createBroker>[0]["keys"];
    const running: TestBroker[] = [];

    before(async () => {
      store = await factory.create();
      root = tmpfsDir("restart");
      scratch = mkdtempSync(join(tmpdir(), "latchkey-restart-"));
      keys = { seal: [{ id: "k1", key: randomBytes(32) }], signing: [await generateSigningKey("ES256")] };
    });
    after(async () => {
      for (const broker of running) await broker.close();
      await store.close();
      rmSync(root, { recursive: true, force: true });
      rmSync(scratch, { recursive: true, force: true });
    });

    /** One broker process, as a restart would build it again: same store, same keys, same config. */
    const startBroker = (options: { sink: boolean; store?: Store }): TestBroker => {
      const logs: string[] = [];
      const config = validateConfig(
        {
          clients: [
            { id: "orch-a", role: "orchestrator", keySha256: sha256Hex(orchestratorKey), scopes: ["*"] },
            { id: "auditor", role: "auditor", keySha256: sha256Hex(`${orchestratorKey}-auditor`) },
          ],
          metadataUrl: "http://127.0.0.1:8181",
          ...(options.sink ? { sink: { root } } : {}),
        },
        "(test)",
        {},
      );
      const broker = createBroker({
        config,
        baseDir: process.cwd(),
        dev: false,
        store: options.store ?? store,
        keys,
        scopes: compileScopes([sinkJwtScope]),
        logger: createLogger({
          level: "debug",
          destination: new Writable({
            write(chunk, _encoding, done) {
              logs.push(String(chunk));
              done();
            },
          }) as never,
        }),
        clock,
        version: "test",
        env: {},
      });
      let closing: Promise<void> | undefined;
      const test: TestBroker = {
        ...broker,
        keys: { orchA: orchestratorKey, orchB: "", auditor: `${orchestratorKey}-auditor`, admin: "" },
        logs,
        store: options.store ?? store,
        close() {
          closing ??= (async () => {
            await broker.sink?.stop();
            await broker.worker.stop();
            await Promise.all([broker.apps.api.close(), broker.apps.metadata.close()]);
          })();
          return closing;
        },
      };
      running.push(test);
      return test;
    };

    test("live sessions are resumed without a gap in their files; ended and expired ones are wiped", async () => {
      const first = startBroker({ sink: true });
      await openSession(first, "restart-live", secrets);
      await openSession(first, "restart-ended", secrets);
      await openSession(first, "restart-expired", secrets, ["sandbox"], 300);
      const live = join(root, "restart-live");
      const before = readTree(live);
      const watcher = watch(live, join(scratch, "stop-watching"));
      await watcher.started;

      // The process goes away: its sink stops, the files stay.
      await first.sink?.stop();
      await first.close();
      // While it is down, another replica (without a sink) ends one session, and one expires.
      const replica = startBroker({ sink: false });
      await endSession(replica, "restart-ended");
      clock.advance(120_000);
      // A crash in the middle of a write would have left a temp file holding a secret.
      const planted = join(live, "jwt", `.api.jwt.tmp-${randomBytes(6).toString("hex")}`);
      writeFileSync(planted, before.get("jwt/api.jwt") ?? "");
      clock.advance(200_000);

      const second = startBroker({ sink: true });
      await second.sink?.start();
      assert.equal(existsSync(join(root, "restart-ended")), false, "ended while the broker was down");
      assert.equal(existsSync(join(root, "restart-expired")), false, "expired while the broker was down");
      assert.equal(existsSync(planted), false, "the temp file a crash left is wiped");
      const after = readTree(live);
      assert.equal(after.get("agent-token")?.toString(), before.get("agent-token")?.toString());
      assert.equal(after.get("env")?.toString(), before.get("env")?.toString());
      // 320 s after its issue the 30 s token was long due: the resumed sink replaced it at once.
      const current = after.get("jwt/api.jwt")?.toString() ?? "";
      assert.notEqual(current, before.get("jwt/api.jwt")?.toString());
      secrets.add(current);

      clock.advance(20_000);
      await second.sink?.refreshDue();
      const refreshed = readFileSync(join(live, "jwt", "api.jwt"), "utf8");
      assert.notEqual(refreshed, current, "the resumed session keeps being refreshed");
      secrets.add(refreshed);
      const { reads, gaps } = await watcher.stop();
      assert.ok(reads > 10);
      assert.equal(gaps, 0, "a reader never found the files missing or incomplete across the restart");

      await endSession(second, "restart-live");
      assert.equal(existsSync(live), false);
    });

    test("a store that cannot answer at start leaves every directory as it is", async () => {
      const first = startBroker({ sink: true });
      await openSession(first, "restart-unreachable", secrets);
      await first.sink?.stop();
      const dir = join(root, "restart-unreachable");
      const before = readTree(dir);
      const closed = createMemoryStore();
      await closed.close();
      const offline = startBroker({ sink: true, store: closed });
      await offline.sink?.start();
      await offline.sink?.stop();
      assert.deepEqual(readTree(dir), before);
      assert.match(offline.logs.join(""), /sink could not refresh the session's files; retrying/);
      // A directory without its agent token cannot be judged, so it is left alone too.
      mkdirSync(join(root, "restart-tokenless"));
      const third = startBroker({ sink: true });
      await third.sink?.start();
      assert.ok(existsSync(join(root, "restart-tokenless")));
      assert.match(
        third.logs.join(""),
        /a session directory without a readable agent-token file is left as it is/,
      );
      rmSync(join(root, "restart-tokenless"), { recursive: true });
      await endSession(third, "restart-unreachable");
      assert.equal(existsSync(dir), false);
    });

    test("no secret reached any broker's logs or the audit export", async () => {
      const auditor = startBroker({ sink: false });
      const exported = await auditor.apps.api.inject({
        url: "/v1/audit/export",
        headers: bearer(`${orchestratorKey}-auditor`),
      });
      assert.equal(exported.statusCode, 200);
      const everything = running.map((b) => b.logs.join("")).join("") + exported.body;
      assert.ok(secrets.size >= 8);
      for (const secret of secrets) assert.equal(everything.includes(secret), false);
    });
  });
}

describe("the broker process and its sink root", () => {
  const devKey = `lk_dev_${randomBytes(16).toString("hex")}`;
  const orchKey = `lk_test_${randomBytes(16).toString("hex")}`;
  const issued: string[] = [];
  const scratch = mkdtempSync(join(tmpdir(), "latchkey-serve-sink-"));
  after(() => rmSync(scratch, { recursive: true, force: true }));
  const logged: string[] = [];
  const logDestination = new Writable({
    write(chunk, _encoding, done) {
      logged.push(String(chunk));
      done();
    },
  });
  /** A directory on a disk: the first of the working directory and the temp directory that is not tmpfs. */
  const onDisk = () => {
    const base = [process.cwd(), tmpdir()].find(
      (dir) => execFileSync("stat", ["-f", "-c", "%T", dir], { encoding: "utf8" }).trim() !== "tmpfs",
    );
    assert.ok(base, "this test needs a directory that is not on tmpfs");
    return mkdtempSync(join(base, ".tmp-latchkey-disk-"));
  };

  const writeConfig = async (sink: Record<string, unknown>) => {
    const keysDir = join(scratch, "keys");
    mkdirSync(keysDir, { recursive: true });
    writeFileSync(
      join(keysDir, "enc.jwk"),
      JSON.stringify({ kty: "oct", k: randomBytes(32).toString("base64url") }),
    );
    writeFileSync(join(keysDir, "sig.jwk"), await generateSigningKeyFile("ES256"));
    const scopes = join(scratch, "scopes");
    mkdirSync(scopes, { recursive: true });
    writeFileSync(join(scopes, "sandbox.yaml"), stringify(sinkJwtScope));
    const file = join(scratch, "latchkey.yaml");
    writeFileSync(
      file,
      stringify({
        listen: { api: { port: 0 }, metadata: { port: 0 } },
        scopesDir: scopes,
        clients: [
          {
            id: "orch",
            role: "orchestrator",
            keySha256: sha256Hex(orchKey),
            scopes: ["*"],
          },
        ],
        encryption: { keys: [{ id: "k1", file: join(keysDir, "enc.jwk") }] },
        signing: { keys: [{ file: join(keysDir, "sig.jwk") }] },
        sink,
      }),
    );
    return file;
  };

  test("outside development mode, a sink root on a disk stops the start with the path and the fix", async () => {
    const disk = onDisk();
    try {
      const configPath = await writeConfig({ root: disk });
      await assert.rejects(
        startServer({ configPath, env: {}, cwd: scratch, notice: () => undefined, logDestination }),
        (error: Error) => {
          assert.ok(error instanceof FileProblemsError);
          assert.match(
            error.message,
            new RegExp(`^${disk}: sink\\.root: is on \\S+ \\(mounted at /[^)]*\\), not tmpfs`),
          );
          assert.match(
            error.message,
            /\(fix: mount a tmpfs there .* sink\.allowNonTmpfs: true accepts a disk \(development only\)\)$/,
          );
          return true;
        },
      );
    } finally {
      rmSync(disk, { recursive: true, force: true });
    }
  });

  test("development mode accepts a disk with a warning and writes the session's files there", async () => {
    const disk = onDisk();
    const server = await startServer({
      env: {
        LATCHKEY_DEV_KEY: devKey,
        LATCHKEY_SINK_ROOT: disk,
        LATCHKEY_API_PORT: "0",
        LATCHKEY_METADATA_PORT: "0",
      },
      cwd: process.cwd(),
      notice: () => undefined,
      logDestination,
    });
    try {
      assert.match(
        logged.join(""),
        /not tmpfs: credentials written there could reach a disk; accepted because of sink\.allowNonTmpfs: true \(development only\)/,
      );
      const opened = await fetch(`${server.apiUrl}/v1/sessions`, {
        method: "POST",
        headers: { ...bearer(devKey), "content-type": "application/json" },
        body: JSON.stringify({ sessionId: "dev-sink-1", scopes: ["internal-api"] }),
      });
      assert.equal(opened.status, 201);
      const body = (await opened.json()) as {
        agentToken: string;
        credentials: { secret: { token: string } }[];
      };
      assert.equal(readFileSync(join(disk, "dev-sink-1", "agent-token"), "utf8"), body.agentToken);
      issued.push(body.agentToken, ...body.credentials.map((c) => c.secret.token));
    } finally {
      await server.close();
      rmSync(disk, { recursive: true, force: true });
    }
    issued.push(devKey);
  });

  test("a served root on tmpfs with sockets: files and socket at open, kept at stop, wiped at a start that no longer knows the session", async () => {
    const root = tmpfsDir("serve");
    try {
      const configPath = await writeConfig({ root, unixSockets: true });
      const serve = () =>
        startServer({ configPath, env: {}, cwd: scratch, notice: () => undefined, logDestination });
      const first = await serve();
      const opened = await fetch(`${first.apiUrl}/v1/sessions`, {
        method: "POST",
        headers: { ...bearer(orchKey), "content-type": "application/json" },
        body: JSON.stringify({ sessionId: "served-1", scopes: ["sandbox"] }),
      });
      assert.equal(opened.status, 201);
      const body = (await opened.json()) as {
        agentToken: string;
        credentials: { secret: { token: string } }[];
      };
      issued.push(body.agentToken, ...body.credentials.map((c) => c.secret.token));
      assert.deepEqual([...readTree(join(root, "served-1")).keys()].sort(), [
        "agent-token",
        "env",
        "jwt/api.jwt",
        "jwt/deploy.jwt",
        "latchkey.sock",
        "manifest.json",
      ]);
      await first.close();
      assert.ok(
        existsSync(join(root, "served-1", "agent-token")),
        "a stopping broker keeps live sessions' files",
      );
      // The memory store forgot the session with the process: the next start wipes what it cannot vouch for.
      const second = await serve();
      await second.close();
      assert.equal(existsSync(join(root, "served-1")), false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test("no key or secret of these processes reached their logs", () => {
    assert.ok(issued.length >= 5);
    const logs = logged.join("");
    for (const secret of issued) assert.equal(logs.includes(secret), false);
  });
});
