import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { StoreUnavailableError } from "../src/errors.js";
import { createRedisStore } from "../src/store/redis.js";
import type { Store } from "../src/store/types.js";
import { storeFactories } from "./helpers/stores.js";

for (const factory of storeFactories()) {
  describe(`store contract: ${factory.name}`, () => {
    let store: Store;
    before(async () => {
      store = await factory.create();
    });
    after(() => store.close());

    test("a missing key reads as null", async () => {
      assert.equal(await store.get("{a}:missing"), null);
      assert.deepEqual(await store.getMany(["{a}:missing", "{a}:other"]), [null, null]);
    });

    test("versions start at 1 and grow by one per write", async () => {
      assert.equal(await store.commit([], [{ op: "set", key: "{v}:k", value: "one" }]), true);
      assert.deepEqual(await store.get("{v}:k"), { value: "one", version: 1 });
      assert.equal(
        await store.commit([{ key: "{v}:k", version: 1 }], [{ op: "set", key: "{v}:k", value: "two" }]),
        true,
      );
      assert.deepEqual(await store.get("{v}:k"), { value: "two", version: 2 });
    });

    test("a stale version guard writes nothing", async () => {
      await store.commit([], [{ op: "set", key: "{g}:a", value: "a1" }]);
      await store.commit([], [{ op: "set", key: "{g}:a", value: "a2" }]);
      const ok = await store.commit(
        [{ key: "{g}:a", version: 1 }],
        [
          { op: "set", key: "{g}:a", value: "lost" },
          { op: "set", key: "{g}:b", value: "lost" },
        ],
      );
      assert.equal(ok, false);
      assert.equal((await store.get("{g}:a"))?.value, "a2");
      assert.equal(await store.get("{g}:b"), null);
    });

    test("an absence guard refuses an existing key and admits a new one", async () => {
      assert.equal(
        await store.commit([{ key: "{n}:x", absent: true }], [{ op: "set", key: "{n}:x", value: "1" }]),
        true,
      );
      assert.equal(
        await store.commit([{ key: "{n}:x", absent: true }], [{ op: "set", key: "{n}:x", value: "2" }]),
        false,
      );
      assert.equal((await store.get("{n}:x"))?.value, "1");
    });

    test("only one of many concurrent guarded writers wins", async () => {
      await store.commit([], [{ op: "set", key: "{race}:k", value: "0" }]);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          store.commit([{ key: "{race}:k", version: 1 }], [{ op: "set", key: "{race}:k", value: String(i) }]),
        ),
      );
      assert.equal(results.filter(Boolean).length, 1);
      assert.equal((await store.get("{race}:k"))?.version, 2);
    });

    test("delete removes a key and a later write restarts its version", async () => {
      await store.commit([], [{ op: "set", key: "{d}:k", value: "x" }]);
      await store.commit([], [{ op: "set", key: "{d}:k", value: "y" }]);
      await store.commit([], [{ op: "delete", key: "{d}:k" }]);
      assert.equal(await store.get("{d}:k"), null);
      await store.commit([], [{ op: "set", key: "{d}:k", value: "z" }]);
      assert.deepEqual(await store.get("{d}:k"), { value: "z", version: 1 });
    });

    test("a key written with a TTL disappears after it, and its version restarts", async () => {
      await store.commit([], [{ op: "set", key: "{t}:k", value: "short", ttlMs: 60 }]);
      assert.equal((await store.get("{t}:k"))?.value, "short");
      await sleep(120);
      assert.equal(await store.get("{t}:k"), null);
      assert.equal(
        await store.commit([{ key: "{t}:k", absent: true }], [{ op: "set", key: "{t}:k", value: "new" }]),
        true,
      );
      assert.deepEqual(await store.get("{t}:k"), { value: "new", version: 1 });
    });

    test("a write without a TTL clears an earlier TTL", async () => {
      await store.commit([], [{ op: "set", key: "{p}:k", value: "a", ttlMs: 60 }]);
      await store.commit([], [{ op: "set", key: "{p}:k", value: "b" }]);
      await sleep(120);
      assert.equal((await store.get("{p}:k"))?.value, "b");
    });

    test("a commit spanning two hash tags is refused before anything is written", async () => {
      await assert.rejects(
        store.commit(
          [],
          [
            { op: "set", key: "{one}:k", value: "1" },
            { op: "set", key: "{two}:k", value: "2" },
          ],
        ),
        /one hash tag/,
      );
      assert.equal(await store.get("{one}:k"), null);
    });

    test("counters count and expire from their first increment", async () => {
      assert.equal(await store.increment("{c}:n", 80), 1);
      assert.equal(await store.increment("{c}:n", 80), 2);
      assert.equal(await store.increment("{c}:n", 80), 3);
      await sleep(150);
      assert.equal(await store.increment("{c}:n", 80), 1);
    });

    test("an index answers members up to a score, lowest first, within the limit", async () => {
      await store.indexAdd("idx", "c", 30);
      await store.indexAdd("idx", "a", 10);
      await store.indexAdd("idx", "b", 20);
      await store.indexAdd("idx", "a", 15);
      assert.deepEqual(await store.indexRange("idx", 25, 10), [
        { member: "a", score: 15 },
        { member: "b", score: 20 },
      ]);
      assert.deepEqual(await store.indexRange("idx", 100, 1), [{ member: "a", score: 15 }]);
      await store.indexRemove("idx", "a");
      assert.deepEqual(
        (await store.indexRange("idx", 100, 10)).map((e) => e.member),
        ["b", "c"],
      );
    });

    test("a log appends densely, refuses a stale head, and reads both ways with a cursor", async () => {
      assert.deepEqual(await store.logHead("audit-test"), { seq: 0, state: "" });
      for (let i = 1; i <= 5; i++) {
        assert.deepEqual(await store.appendLog("audit-test", i - 1, [`e${i}`], `h${i}`), {
          ok: true,
          seq: i,
        });
      }
      assert.deepEqual(await store.appendLog("audit-test", 3, ["late"], "x"), {
        ok: false,
        head: { seq: 5, state: "h5" },
      });
      assert.deepEqual(
        (await store.readLog("audit-test", { limit: 2 })).map((e) => e.entry),
        ["e1", "e2"],
      );
      assert.deepEqual(
        (await store.readLog("audit-test", { limit: 2, cursor: 2 })).map((e) => e.seq),
        [3, 4],
      );
      assert.deepEqual(
        (await store.readLog("audit-test", { limit: 2, reverse: true })).map((e) => e.seq),
        [5, 4],
      );
      assert.deepEqual(
        (await store.readLog("audit-test", { limit: 10, reverse: true, cursor: 3 })).map((e) => e.seq),
        [2, 1],
      );
    });

    test("concurrent appends on one head: exactly one wins each round", async () => {
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => store.appendLog("race-log", 0, [`e${i}`], "h")),
      );
      assert.equal(results.filter((r) => r.ok).length, 1);
      assert.equal((await store.logHead("race-log")).seq, 1);
    });

    test("a batch append is all or nothing and numbers its entries in order", async () => {
      assert.deepEqual(await store.appendLog("batch-log", 0, ["a", "b", "c"], "h3"), { ok: true, seq: 3 });
      assert.deepEqual(await store.appendLog("batch-log", 1, ["x", "y"], "bad"), {
        ok: false,
        head: { seq: 3, state: "h3" },
      });
      assert.deepEqual(await store.readLog("batch-log", { limit: 10 }), [
        { seq: 1, entry: "a" },
        { seq: 2, entry: "b" },
        { seq: 3, entry: "c" },
      ]);
    });

    test("ping answers while the store is up", async () => {
      await store.ping();
    });
  });
}

describe("store contract: redis outage", () => {
  test("an unreachable Redis is reported as StoreUnavailableError quickly, not a hang", async () => {
    const started = Date.now();
    // Port 1 on loopback refuses connections at once.
    await assert.rejects(
      createRedisStore({ url: "redis://127.0.0.1:1", connectTimeoutMs: 500 }),
      (error: unknown) => error instanceof StoreUnavailableError && error.code === "STORE_UNAVAILABLE",
    );
    assert.ok(Date.now() - started < 5000);
  });
});
