import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createRedisStore } from "../src/store/redis.js";
import type { Store } from "../src/store/types.js";
import { bearer, createTestBroker, type TestBroker } from "./helpers/broker.js";
import { freePort } from "./helpers/net.js";
import { type RedisProcess, startRedisProcess } from "./helpers/redis-server.js";

// Runs with the Redis suites (REDIS_URL set, as in CI); it starts its own redis-server so it can
// take it away and bring it back.
if (process.env.REDIS_URL) {
  describe("a Redis outage", () => {
    let redis: RedisProcess;
    let store: Store;
    let broker: TestBroker;
    before(async () => {
      redis = await startRedisProcess(await freePort());
      store = await createRedisStore({ url: redis.url, commandTimeoutMs: 300 });
      broker = await createTestBroker({ store });
    });
    after(async () => {
      await broker.close();
      await store.close();
      await redis.stop();
    });

    test("makes the broker answer 503 STORE_UNAVAILABLE quickly, then recover on its own", async () => {
      const open = (id: string) =>
        broker.apps.api.inject({
          method: "POST",
          url: "/v1/sessions",
          headers: bearer(broker.keys.orchA),
          payload: { sessionId: id, scopes: ["build"] },
        });
      assert.equal((await open("before-outage")).statusCode, 201);
      assert.equal((await broker.apps.api.inject({ method: "GET", url: "/readyz" })).statusCode, 200);

      await redis.stop();
      for (const request of [
        () => broker.apps.api.inject({ method: "GET", url: "/readyz" }),
        () => open("during-outage"),
        () =>
          broker.apps.api.inject({
            method: "GET",
            url: "/v1/sessions/before-outage",
            headers: bearer(broker.keys.orchA),
          }),
      ]) {
        const started = Date.now();
        const response = await request();
        assert.equal(response.statusCode, 503, response.body);
        assert.equal(response.json().code, "STORE_UNAVAILABLE");
        assert.equal(response.headers["retry-after"], "1");
        assert.ok(Date.now() - started < 3000, "fails closed quickly instead of hanging");
        assert.equal(response.body.includes("ECONNREFUSED"), false, "nothing internal in the body");
      }
      // The API key check does not need the store, but nothing may be granted without it.
      assert.equal((await broker.apps.api.inject({ method: "GET", url: "/healthz" })).statusCode, 200);

      await redis.start();
      let ready = 0;
      for (let i = 0; i < 100 && ready !== 200; i++) {
        await sleep(100);
        ready = (await broker.apps.api.inject({ method: "GET", url: "/readyz" })).statusCode;
      }
      assert.equal(ready, 200, "recovered without a restart");
      assert.equal((await open("after-outage")).statusCode, 201);
    });

    test("a leak that cannot be revoked in an outage stops the scan at once, failing closed", async () => {
      const opened = await broker.apps.api.inject({
        method: "POST",
        url: "/v1/sessions",
        headers: bearer(broker.keys.orchA),
        payload: { sessionId: "leak-in-outage", scopes: ["build"] },
      });
      const token: string = opened.json().credentials[0].secret.token;
      // Pulled by the scan itself, once it has loaded what it looks for: the store goes, then the
      // secret comes, then output that would go on for a gigabyte if the scan kept reading.
      const chunk = Buffer.from("build output line\n".repeat(4096));
      let pulled = 0;
      async function* output() {
        await redis.stop();
        yield Buffer.from(`export TOKEN=${token}\n`);
        // Each chunk in an event-loop turn of its own, as a socket delivers them.
        for (; pulled < 16_384; pulled++) {
          await new Promise(setImmediate);
          yield chunk;
        }
      }
      const owner = { id: "orch-a", role: "orchestrator" as const, scopes: new Set(["*"]) };
      try {
        await assert.rejects(broker.leaks.scan(owner, "leak-in-outage", output(), "req-outage"), {
          code: "STORE_UNAVAILABLE",
        });
        assert.ok(pulled < 64, `the scan read on for ${pulled} chunks after the revocation failed`);
        const logged = broker.logs.join("");
        assert.match(logged, /a leaked credential could not be revoked; the scan stops/);
        assert.equal(logged.includes(token), false);
      } finally {
        await redis.start();
      }
    });
  });
}
