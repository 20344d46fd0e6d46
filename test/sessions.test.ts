import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { decodeJwt } from "jose";
import type { Store } from "../src/store/types.js";
import { bearer, createTestBroker, type TestBroker } from "./helpers/broker.js";
import { createTestClock, type TestClock } from "./helpers/clock.js";
import { storeFactories } from "./helpers/stores.js";

for (const factory of storeFactories()) {
  describe(`sessions over time (${factory.name} store)`, () => {
    let store: Store;
    let clock: TestClock;
    let broker: TestBroker;
    before(async () => {
      store = await factory.create();
      clock = createTestClock(Date.now());
      broker = await createTestBroker({ store, clock });
    });
    after(async () => {
      await broker.close();
      await store.close();
    });

    const open = (sessionId: string, extra: Record<string, unknown> = {}) =>
      broker.apps.api.inject({
        method: "POST",
        url: "/v1/sessions",
        headers: bearer(broker.keys.orchA),
        payload: { sessionId, scopes: ["build"], ...extra },
      });
    const readJwt = (token: string) =>
      broker.apps.metadata.inject({
        method: "GET",
        url: "/v1/credentials/jwt/api",
        headers: { authorization: token },
      });

    test("the TTL is bounded by the scope's maxTtlSeconds", async () => {
      const response = await open("ttl-bounded", { ttlSeconds: 86_400 });
      assert.equal(response.statusCode, 201);
      const { createdAt, expiresAt } = response.json().session;
      assert.equal(Date.parse(expiresAt) - Date.parse(createdAt), 3600 * 1000);
    });

    test("a live session id cannot be opened twice, and an ended one is never reused", async () => {
      assert.equal((await open("taken-id")).statusCode, 201);
      const second = await open("taken-id");
      assert.equal(second.statusCode, 409);
      assert.equal(second.json().code, "SESSION_EXISTS");
      await broker.apps.api.inject({
        method: "DELETE",
        url: "/v1/sessions/taken-id",
        headers: bearer(broker.keys.orchA),
      });
      assert.equal((await open("taken-id")).statusCode, 409);
    });

    test("of many concurrent opens of one id exactly one succeeds", async () => {
      const results = await Promise.all(Array.from({ length: 8 }, () => open("raced-id")));
      assert.deepEqual(results.map((r) => r.statusCode).sort(), [201, 409, 409, 409, 409, 409, 409, 409]);
    });

    test("the agent is served from cache, and re-minted once a third of the lifetime is left", async () => {
      const opened = (await open("refreshing")).json();
      const token = opened.agentToken as string;
      const first = readJwt(token);
      const initial = (await first).json().token as string;
      assert.equal(initial, opened.credentials[0].secret.token);
      clock.advance(390_000); // 600 s lifetime, 210 s left: more than a third
      assert.equal((await readJwt(token)).json().token, initial);
      clock.advance(10_000); // 200 s left: exactly a third
      const refreshed = (await readJwt(token)).json();
      assert.notEqual(refreshed.token, initial);
      assert.equal(decodeJwt(refreshed.token).iat, Math.floor(clock.now() / 1000));
      assert.equal((await readJwt(token)).json().token, refreshed.token, "the new one is served from cache");
      const session = await broker.apps.api.inject({
        method: "GET",
        url: "/v1/sessions/refreshing",
        headers: bearer(broker.keys.orchA),
      });
      assert.equal(session.json().credentials.length, 2, "both credentials are tracked for revocation");
    });

    test("concurrent reads during a refresh share one re-mint", async () => {
      const opened = (await open("refresh-race")).json();
      clock.advance(500_000);
      const tokens = await Promise.all(
        Array.from({ length: 10 }, async () => (await readJwt(opened.agentToken)).json().token),
      );
      assert.equal(new Set(tokens).size, 1);
      const session = await broker.apps.api.inject({
        method: "GET",
        url: "/v1/sessions/refresh-race",
        headers: bearer(broker.keys.orchA),
      });
      assert.equal(session.json().credentials.length, 2);
    });

    test("a session past its expiry is ended by the broker itself, and its tokens stop working", async () => {
      const opened = (await open("expiring", { ttlSeconds: 120 })).json();
      assert.equal((await readJwt(opened.agentToken)).statusCode, 200);
      clock.advance(121_000);
      // Past expiry the agent is refused at once, even before the background pass runs.
      assert.equal((await readJwt(opened.agentToken)).statusCode, 401);
      await broker.worker.tick();
      const session = await broker.apps.api.inject({
        method: "GET",
        url: "/v1/sessions/expiring",
        headers: bearer(broker.keys.orchA),
      });
      assert.equal(session.json().session.state, "ended");
      assert.equal(session.json().session.endReason, "expired");
      const audit = await broker.apps.api.inject({
        method: "GET",
        url: "/v1/audit?sessionId=expiring&action=session.expired",
        headers: bearer(broker.keys.auditor),
      });
      assert.equal(audit.json().events.length, 1);
      assert.equal(audit.json().events[0].actor, "system");
    });
  });
}
