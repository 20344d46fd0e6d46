import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Store } from "../src/store/types.js";
import type { AwsEmulator } from "./emulators/aws/index.js";
import { awsProviderConfig, awsScope, startEmulatorWithRoles } from "./helpers/aws.js";
import { bearer, createTestBroker, type TestBroker } from "./helpers/broker.js";
import { storeFactories } from "./helpers/stores.js";

// Several replicas revoking on one role at once: IAM has no conditional write, so without the
// shared per-role lock their read-modify-write cycles would lose each other's denies.
for (const factory of storeFactories()) {
  describe(`two brokers revoking on one role at once (${factory.name} store)`, () => {
    let emulator: AwsEmulator;
    let store: Store;
    let brokers: TestBroker[];
    before(async () => {
      emulator = await startEmulatorWithRoles("shared-role");
      store = await factory.create();
      const scope = awsScope("shared", `arn:aws:iam::123456789012:role/shared-role`);
      brokers = [];
      for (let i = 0; i < 2; i++)
        brokers.push(await createTestBroker({ store, scopes: [scope], ...awsProviderConfig(emulator) }));
    });
    after(async () => {
      for (const broker of brokers) await broker.close();
      await store.close();
      await emulator.close();
    });

    test("50 sessions each, ended concurrently: no revocation is lost", async () => {
      const ids = (b: number) =>
        Array.from({ length: 50 }, (_, i) => `race-${b}-${String(i).padStart(2, "0")}`);
      await Promise.all(
        brokers.flatMap((broker, b) =>
          ids(b).map(async (sessionId) => {
            const response = await broker.apps.api.inject({
              method: "POST",
              url: "/v1/sessions",
              headers: bearer(broker.keys.orchA),
              payload: { sessionId, scopes: ["shared"] },
            });
            assert.equal(response.statusCode, 201, response.body);
          }),
        ),
      );
      const puts = () => emulator.requests.filter((r) => r.action === "PutRolePolicy").length;
      const before = puts();
      const ended = await Promise.all(
        brokers.flatMap((broker, b) =>
          ids(b).map((sessionId) =>
            broker.apps.api.inject({
              method: "DELETE",
              url: `/v1/sessions/${sessionId}`,
              headers: bearer(broker.keys.orchA),
            }),
          ),
        ),
      );
      for (const response of ended) {
        assert.equal(response.statusCode, 200);
        assert.equal(response.json().credentials[0].state, "revoked", response.body);
      }
      const document = emulator.getRolePolicy("shared-role", "LatchkeyRevokedSessions") ?? "";
      for (const sessionId of [...ids(0), ...ids(1)])
        assert.ok(document.includes(`"${sessionId}"`), `${sessionId} is denied`);
      assert.ok(
        puts() - before < 100,
        `revocations are coalesced (${puts() - before} policy writes for 100 sessions)`,
      );
    });
  });
}
