import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { AgentClientError, getFromMetadata } from "../src/agent/client.js";
import type { Store } from "../src/store/types.js";
import { bearer, createTestBroker, type TestBroker } from "./helpers/broker.js";
import { createTestClock, type TestClock } from "./helpers/clock.js";
import {
  assertNoSecretsLogged,
  endSession,
  type OpenedSession,
  openSession,
  sinkJwtScope,
  tmpfsDir,
} from "./helpers/sink.js";
import { storeFactories } from "./helpers/stores.js";

// Per-session Unix sockets for network-less sandboxes: the metadata routes on a socket inside
// the session's directory, answering that session only.
for (const factory of storeFactories()) {
  describe(`session sockets (${factory.name} store)`, () => {
    let store: Store;
    let broker: TestBroker;
    let clock: TestClock;
    let root: string;
    const secrets = new Set<string>();
    let a: OpenedSession;
    let b: OpenedSession;

    before(async () => {
      store = await factory.create();
      clock = createTestClock(Date.now());
      root = tmpfsDir("sockets");
      broker = await createTestBroker({
        store,
        clock,
        scopes: [sinkJwtScope],
        // The TCP listener is never started here: the sockets are the only way in.
        config: {
          metadataUrl: "http://127.0.0.1:9",
          sink: { root, unixSockets: true, uid: 4242, gid: 4343 },
        },
      });
      a = await openSession(broker, "socket-a", secrets);
      b = await openSession(broker, "socket-b", secrets);
    });
    after(async () => {
      await broker.sink?.stop();
      await broker.close();
      await store.close();
      rmSync(root, { recursive: true, force: true });
    });

    const socketOf = (id: string) => join(root, id, "latchkey.sock");
    const ask = (id: string, token: string, path = "v1/credentials") =>
      getFromMetadata({ url: "http://localhost", token, socketPath: socketOf(id) }, path);
    const refused = (code: string) => (error: unknown) => {
      assert.ok(error instanceof AgentClientError);
      assert.equal(error.code, code);
      return true;
    };

    test("each session has its own socket in its directory, 0600 and handed to the sandbox's user", () => {
      for (const id of ["socket-a", "socket-b"]) {
        const stats = statSync(socketOf(id));
        assert.ok(stats.isSocket());
        assert.equal(stats.mode & 0o777, 0o600);
        assert.deepEqual([stats.uid, stats.gid], [4242, 4343]);
        const manifest = JSON.parse(readFileSync(join(root, id, "manifest.json"), "utf8"));
        assert.equal(manifest.socket, "/run/latchkey/latchkey.sock");
      }
      assert.deepEqual(
        readdirSync(root).sort(),
        ["socket-a", "socket-b"],
        "no socket is left where it was bound",
      );
    });

    test("a socket answers its own session's token, and refuses no token or another session's", async () => {
      assert.equal((await ask("socket-a", a.agentToken)).sessionId, "socket-a");
      assert.equal((await ask("socket-b", b.agentToken)).sessionId, "socket-b");
      await assert.rejects(ask("socket-a", ""), refused("UNAUTHENTICATED"));
      await assert.rejects(ask("socket-a", b.agentToken), refused("UNAUTHENTICATED"));
      await assert.rejects(ask("socket-a", b.agentToken, "v1/credentials/jwt/api"), (error: Error) => {
        assert.equal(error.message, "UNAUTHENTICATED: The agent token is not valid for an active session.");
        return true;
      });
      const denied = await broker.apps.api.inject({
        url: "/v1/audit?action=auth.denied",
        headers: bearer(broker.keys.auditor),
      });
      const routes = denied.json().events.map((e: any) => [e.reason, e.detail.route]);
      assert.deepEqual(routes.slice(0, 3).sort(), [
        ["invalid", "/v1/credentials"],
        ["invalid", "/v1/credentials/:provider/:grant"],
        ["missing", "/v1/credentials"],
      ]);
    });

    test("a read through the socket refreshes when due, and the files follow", async () => {
      clock.advance(20_000);
      const answer = await ask("socket-a", a.agentToken, "v1/credentials/jwt/api");
      const token = answer.token as string;
      secrets.add(token);
      assert.notEqual(token, a.credentials.find((c) => c.grant === "api")?.secret.token);
      assert.equal(readFileSync(join(root, "socket-a", "jwt", "api.jwt"), "utf8"), token);
    });

    test("stopping the sink closes the sockets and keeps the files; starting it serves them again", async () => {
      const sink = broker.sink;
      assert.ok(sink);
      await sink.stop();
      await assert.rejects(ask("socket-a", a.agentToken), refused("UNREACHABLE"));
      assert.equal(readFileSync(join(root, "socket-a", "agent-token"), "utf8"), a.agentToken);
      await sink.start();
      assert.equal((await ask("socket-a", a.agentToken)).sessionId, "socket-a");
      assert.equal((await ask("socket-b", b.agentToken)).sessionId, "socket-b");
      assert.deepEqual(readdirSync(root).sort(), ["socket-a", "socket-b"]);
    });

    test("at the session's end its socket goes with its directory; the other session's stays", async () => {
      await endSession(broker, "socket-a");
      assert.equal(existsSync(join(root, "socket-a")), false);
      await assert.rejects(ask("socket-a", a.agentToken), refused("UNREACHABLE"));
      assert.equal((await ask("socket-b", b.agentToken)).sessionId, "socket-b");
      await endSession(broker, "socket-b");
      assert.deepEqual(readdirSync(root), []);
    });

    test("no secret reached the logs or the audit export", async () => {
      await assertNoSecretsLogged(broker, secrets);
    });
  });
}
