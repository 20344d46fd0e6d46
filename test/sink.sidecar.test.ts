import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { AgentClientError } from "../src/agent/client.js";
import { openSessionDirectory } from "../src/sink/directory.js";
import { createSidecar, type Sidecar } from "../src/sink/sidecar.js";
import type { Store } from "../src/store/types.js";
import { createTestBroker, type TestBroker } from "./helpers/broker.js";
import { runCli, startCli } from "./helpers/cli.js";
import { createTestClock, type TestClock } from "./helpers/clock.js";
import { freePort } from "./helpers/net.js";
import {
  assertNoSecretsLogged,
  endSession,
  jwtExpiry,
  type OpenedSession,
  openSession,
  readTree,
  sinkJwtScope,
  tmpfsDir,
} from "./helpers/sink.js";
import { storeFactories } from "./helpers/stores.js";

// The sidecar (`latchkey sink`): the broker's file layout, kept by a process that has only the
// metadata endpoint and the agent token.
for (const factory of storeFactories()) {
  describe(`the sidecar (${factory.name} store)`, () => {
    let store: Store;
    let broker: TestBroker;
    let clock: TestClock;
    let root: string;
    let sidecars: string;
    let metadataUrl: string;
    const secrets = new Set<string>();

    before(async () => {
      store = await factory.create();
      clock = createTestClock(Date.now());
      root = tmpfsDir("sidecar-broker");
      sidecars = tmpfsDir("sidecars");
      const port = await freePort();
      metadataUrl = `http://127.0.0.1:${port}`;
      broker = await createTestBroker({
        store,
        clock,
        scopes: [sinkJwtScope],
        config: { metadataUrl, sink: { root, unixSockets: true } },
      });
      await broker.apps.metadata.listen({ host: "127.0.0.1", port });
    });
    after(async () => {
      await broker.sink?.stop();
      await broker.close();
      await store.close();
      rmSync(root, { recursive: true, force: true });
      rmSync(sidecars, { recursive: true, force: true });
    });

    const sidecarFor = (session: OpenedSession, dir: string, socket?: string): Sidecar =>
      createSidecar({
        endpoint: {
          url: socket ? "http://localhost" : metadataUrl,
          token: session.agentToken,
          ...(socket ? { socketPath: socket } : {}),
        },
        directory: openSessionDirectory(dir, { owner: {}, existing: true }),
        mountPoint: "/run/latchkey",
        metadataUrl: socket ? undefined : metadataUrl,
        clock,
        pollMs: 15_000,
      });
    /** Everything but the manifest's `socket` line, which only the broker's own sink serves. */
    const comparable = (dir: string) => {
      const tree = readTree(dir);
      tree.delete("latchkey.sock");
      const manifest = JSON.parse(tree.get("manifest.json")?.toString() ?? "{}");
      delete manifest.socket;
      tree.set("manifest.json", Buffer.from(JSON.stringify(manifest)));
      return new Map([...tree].map(([name, content]) => [name, content.toString()]));
    };

    test("writes exactly the files the broker's own sink writes, and keeps them fresh before expiry", async () => {
      const session = await openSession(broker, "sidecar-same", secrets);
      const dir = join(sidecars, "sidecar-same");
      mkdirSync(dir);
      const sidecar = sidecarFor(session, dir);
      assert.equal(await sidecar.sync(), "live");
      assert.deepEqual(comparable(dir), comparable(join(root, "sidecar-same")));
      const first = readFileSync(join(dir, "jwt", "api.jwt"), "utf8");

      clock.advance(19_000);
      await sidecar.sync();
      assert.equal(readFileSync(join(dir, "jwt", "api.jwt"), "utf8"), first, "not due yet");
      for (let step = 0; step < 20; step++) {
        clock.advance(step === 0 ? 1_000 : 9_000);
        await sidecar.sync();
        const current = readFileSync(join(dir, "jwt", "api.jwt"), "utf8");
        secrets.add(current);
        assert.ok(jwtExpiry(current) > clock.now(), `step ${step}: the file holds a live token`);
      }
      assert.notEqual(readFileSync(join(dir, "jwt", "api.jwt"), "utf8"), first);
      // The broker's sink followed the same refreshes (its listener), so both still agree.
      assert.deepEqual(comparable(dir), comparable(join(root, "sidecar-same")));
    });

    test("picks up a credential the endpoint refreshed for another reader", async () => {
      const session = await openSession(broker, "sidecar-other-reader", secrets);
      const dir = join(sidecars, "sidecar-other-reader");
      mkdirSync(dir);
      const sidecar = sidecarFor(session, dir);
      await sidecar.sync();
      clock.advance(20_000);
      const read = await broker.apps.metadata.inject({
        url: "/v1/credentials/jwt/api",
        headers: { authorization: session.agentToken },
      });
      secrets.add(read.json().token);
      await sidecar.sync();
      assert.equal(readFileSync(join(dir, "jwt", "api.jwt"), "utf8"), read.json().token);
    });

    test("through the session's socket, with no URL for the sandbox; wipes everything once the session ended", async () => {
      const session = await openSession(broker, "sidecar-socket", secrets);
      const dir = join(sidecars, "sidecar-socket");
      mkdirSync(dir);
      const sidecar = sidecarFor(session, dir, join(root, "sidecar-socket", "latchkey.sock"));
      assert.equal(await sidecar.sync(), "live");
      assert.equal(
        readFileSync(join(dir, "env"), "utf8"),
        "LATCHKEY_AGENT_TOKEN_FILE=/run/latchkey/agent-token\n",
      );
      await endSession(broker, "sidecar-socket");
      // The broker's socket went with its session: the sidecar cannot tell, and keeps the files.
      await assert.rejects(sidecar.sync(), (error: AgentClientError) => error.code === "UNREACHABLE");
      assert.ok(existsSync(join(dir, "agent-token")));
      const overNetwork = sidecarFor(session, dir);
      assert.equal(await overNetwork.sync(), "ended");
      assert.deepEqual(readdirSync(dir), [], "every file is gone; the directory (a mount point) stays");
    });

    test("`latchkey sink`: files while live, kept across SIGTERM, wiped and exit 0 once the session ends", async () => {
      const session = await openSession(broker, "sidecar-cli", secrets);
      const dir = join(sidecars, "sidecar-cli");
      mkdirSync(dir, { mode: 0o700 });
      const env = {
        PATH: process.env.PATH ?? "",
        LATCHKEY_METADATA_URL: metadataUrl,
        LATCHKEY_AGENT_TOKEN: session.agentToken,
      };
      const args = ["sink", "--session-dir", dir, "--poll-seconds", "1", "--mount-point", "/sandbox/creds"];
      const waitFor = async (check: () => boolean) => {
        for (let i = 0; i < 100 && !check(); i++) await sleep(50);
        assert.ok(check());
      };

      const first = await startCli(args, /keeping the session's files/, { env });
      await waitFor(() => existsSync(join(dir, "manifest.json")));
      assert.equal(readFileSync(join(dir, "agent-token"), "utf8"), session.agentToken);
      assert.match(
        readFileSync(join(dir, "env"), "utf8"),
        /^LATCHKEY_METADATA_URL=.*\nLATCHKEY_AGENT_TOKEN_FILE=\/sandbox\/creds\/agent-token\n$/,
      );
      const exited = new Promise<number | null>((resolve) => first.child.on("exit", resolve));
      first.child.kill("SIGTERM");
      assert.equal(await exited, 0);
      assert.match(first.output(), /stopped; the files are kept\n$/);
      assert.ok(existsSync(join(dir, "jwt", "api.jwt")));

      const second = await startCli(args, /keeping the session's files/, { env });
      const ended = new Promise<number | null>((resolve) => second.child.on("exit", resolve));
      await endSession(broker, "sidecar-cli");
      assert.equal(await ended, 0);
      assert.match(second.output(), /the session has ended; its files are wiped\n$/);
      assert.deepEqual(readdirSync(dir), []);
      for (const secret of secrets) {
        assert.equal(first.output().includes(secret) || second.output().includes(secret), false);
      }
    });

    test("`latchkey sink` refuses a directory that is a link, and says what is missing", async () => {
      const target = join(sidecars, "link-target");
      mkdirSync(target);
      const link = join(sidecars, "link");
      symlinkSync(target, link);
      const env = {
        PATH: process.env.PATH ?? "",
        LATCHKEY_METADATA_URL: metadataUrl,
        LATCHKEY_AGENT_TOKEN: randomBytes(24).toString("hex"),
      };
      const linked = await runCli(["sink", "--session-dir", link], { env });
      assert.equal(linked.code, 1);
      assert.equal(
        linked.stderr,
        `latchkey sink: ${link}: --session-dir: is a symbolic link; the sink never writes through links (fix: set --session-dir to the directory the link points to)\n`,
      );
      assert.deepEqual(readdirSync(target), []);
      const missing = await runCli(["sink", "--session-dir", join(sidecars, "missing")], { env });
      assert.equal(missing.code, 1);
      assert.equal(
        missing.stderr,
        `latchkey sink: ${join(sidecars, "missing")}: --session-dir: does not exist (fix: mount the tmpfs the sandbox shares there (or create the directory) first)\n`,
      );
      const tokenless = await runCli(["sink", "--session-dir", target], {
        env: { PATH: process.env.PATH ?? "" },
      });
      assert.equal(tokenless.code, 1);
      assert.equal(
        tokenless.stderr,
        "latchkey sink: LATCHKEY_METADATA_URL is not set (source the session's env file)\n",
      );
      const usage = await runCli(["sink"], { env });
      assert.equal(usage.code, 2);
      assert.match(usage.stderr, /needs --session-dir DIR/);
      const help = await runCli(["sink", "--help"]);
      assert.match(help.stdout, /^Usage: latchkey sink --session-dir DIR/);
    });

    test("no secret reached the logs or the audit export", async () => {
      await assertNoSecretsLogged(broker, secrets);
    });
  });
}

describe("the sidecar and an endpoint it cannot trust blindly", () => {
  test("an answer naming a path, or breaking a line, is refused and nothing is written", async () => {
    const dir = tmpfsDir("sidecar-hostile");
    const answers: Record<string, unknown>[] = [
      {
        sessionId: "hostile",
        expiresAt: new Date(Date.now() + 600_000).toISOString(),
        grants: [{ provider: "jwt", grant: "../../escape", scope: "s", expiresAt: new Date().toISOString() }],
      },
      {
        sessionId: "hostile",
        expiresAt: new Date(Date.now() + 600_000).toISOString(),
        grants: [
          {
            provider: "github",
            grant: "repo",
            scope: "s",
            expiresAt: new Date().toISOString(),
            gitHost: "h\nx",
          },
        ],
      },
    ];
    let current: Record<string, unknown> | undefined;
    const server = createServer((_request, response) => {
      response.setHeader("content-type", "application/json");
      response.end(JSON.stringify(current));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    try {
      const sidecar = createSidecar({
        endpoint: { url, token: randomBytes(24).toString("hex") },
        directory: openSessionDirectory(dir, { owner: {}, existing: true }),
        mountPoint: "/run/latchkey",
        metadataUrl: url,
        clock: createTestClock(),
        pollMs: 15_000,
      });
      for (const answer of answers) {
        current = answer;
        await assert.rejects(sidecar.sync(), (error: AgentClientError) => {
          assert.equal(error.code, "PROTOCOL");
          assert.equal(error.message, "the metadata endpoint answered the grant list in an unknown form");
          return true;
        });
      }
      assert.deepEqual(readdirSync(dir), []);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
