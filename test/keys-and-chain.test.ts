import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { createAuditLog } from "../src/audit/log.js";
import { createSealer } from "../src/crypto/seal.js";
import { createLogger } from "../src/logging.js";
import { createSigningKeySet, generateSigningKey } from "../src/providers/jwt/keys.js";
import { createMemoryStore } from "../src/store/memory.js";
import { runCli } from "./helpers/cli.js";
import { createTestClock } from "./helpers/clock.js";

describe("signing key rotation", () => {
  test("a new key is published before it signs; a retired key stays published until its tokens expired", async () => {
    const t0 = Date.parse("2026-11-27T00:00:00Z");
    const old = await generateSigningKey("ES256", 0);
    const next = await generateSigningKey("RS256", t0 + 3_600_000);
    const maxTtl = 600_000;
    const set = createSigningKeySet([next, old], maxTtl);
    const kids = (now: number) => set.published(now).map((k) => k.kid);

    assert.equal(set.signer(t0).kid, old.kid, "before its notBefore the new key does not sign");
    assert.deepEqual(kids(t0), [old.kid, next.kid], "but it is already published");
    const switchover = t0 + 3_600_000;
    assert.equal(set.signer(switchover).kid, next.kid);
    assert.deepEqual(
      kids(switchover + maxTtl - 1),
      [old.kid, next.kid],
      "the old key stays while its tokens live",
    );
    assert.deepEqual(kids(switchover + maxTtl), [next.kid], "then it is withdrawn");
    for (const jwk of set.published(t0).map((k) => k.publicJwk)) {
      assert.equal("d" in jwk, false, "only public members are published");
      assert.equal(jwk.use, "sig");
    }
  });

  test("two keys with one kid are refused", async () => {
    const key = await generateSigningKey("ES256");
    assert.throws(() => createSigningKeySet([key, { ...key }], 1000), /distinct kids/);
  });
});

describe("sealing secrets at rest", () => {
  test("round-trips, binds to its record, and opens with an older key after rotation", () => {
    const k1 = { id: "k1", key: randomBytes(32) };
    const k2 = { id: "k2", key: randomBytes(32) };
    const before = createSealer([k1]);
    const sealed = before.seal("the-secret", "sess/cred-1");
    assert.equal(sealed.includes("the-secret"), false);
    assert.equal(before.open(sealed, "sess/cred-1"), "the-secret");
    assert.throws(() => before.open(sealed, "sess/cred-2"), "another record's ciphertext does not open");
    const after = createSealer([k2, k1]);
    assert.equal(after.open(sealed, "sess/cred-1"), "the-secret");
    assert.match(after.seal("x", "a"), /^v1\.k2\./, "new seals use the primary key");
    assert.throws(() => createSealer([k2]).open(sealed, "sess/cred-1"), /unknown key id k1/);
    const tampered = sealed.replace(
      /\.([A-Za-z0-9_-])([A-Za-z0-9_-]*)\.([^.]+)$/,
      (_m, a, b, c) => `.${a === "A" ? "B" : "A"}${b}.${c}`,
    );
    assert.throws(() => before.open(tampered, "sess/cred-1"));
  });
});

describe("audit hash chain", () => {
  const build = async () => {
    const store = createMemoryStore();
    const audit = createAuditLog({
      store,
      clock: createTestClock(),
      logger: createLogger({ level: "silent" }),
    });
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        audit.record({
          action: "credential.read",
          outcome: "success",
          actor: `agent:s${i % 3}`,
          sessionId: `s${i % 3}`,
        }),
      ),
    );
    return audit;
  };

  test("concurrent records form one dense, verifiable chain", async () => {
    const audit = await build();
    const result = await audit.verify();
    assert.equal(result.ok, true);
    assert.equal(result.count, 40);
    assert.equal(result.lastSeq, 40);
    const page = await audit.query({ order: "oldest", limit: 500 });
    assert.deepEqual(
      page.events.map((e) => e.seq),
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
  });

  test("pagination walks every matching event exactly once, both ways", async () => {
    const audit = await build();
    for (const order of ["newest", "oldest"] as const) {
      const seen: number[] = [];
      let cursor: string | undefined;
      do {
        const page = await audit.query({ order, limit: 4, sessionId: "s1", ...(cursor ? { cursor } : {}) });
        seen.push(...page.events.map((e) => e.seq));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      assert.equal(seen.length, 13);
      assert.equal(new Set(seen).size, 13);
      assert.ok(seen.every((seq) => seq % 3 === 2));
    }
  });

  test("`latchkey audit verify` accepts an intact export and names the first edited event", async () => {
    const audit = await build();
    const lines: string[] = [];
    for await (const event of audit.export({})) lines.push(JSON.stringify(event));
    const dir = mkdtempSync(join(tmpdir(), "latchkey-audit-"));
    writeFileSync(join(dir, "intact.ndjson"), `${lines.join("\n")}\n`);
    const intact = await runCli(["audit", "verify", join(dir, "intact.ndjson")]);
    assert.equal(intact.code, 0, intact.stderr);
    assert.equal(JSON.parse(intact.stdout).count, 40);

    const edited = [...lines];
    edited[16] = (edited[16] as string).replace('"outcome":"success"', '"outcome":"failure"');
    writeFileSync(join(dir, "edited.ndjson"), `${edited.join("\n")}\n`);
    const broken = await runCli(["audit", "verify", join(dir, "edited.ndjson")]);
    assert.equal(broken.code, 1);
    assert.deepEqual(JSON.parse(broken.stdout).brokenAt, {
      seq: 17,
      reason: "hash does not match the event's content",
    });

    const dropped = lines.filter((_, i) => i !== 20);
    writeFileSync(join(dir, "dropped.ndjson"), `${dropped.join("\n")}\n`);
    const gap = await runCli(["audit", "verify", join(dir, "dropped.ndjson")]);
    assert.equal(gap.code, 1);
    assert.equal(JSON.parse(gap.stdout).brokenAt.seq, 22);
    assert.ok(readFileSync(join(dir, "intact.ndjson"), "utf8").length > 0);
  });
});
