import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createRemoteJWKSet, jwtVerify } from "jose";
import type { Store } from "../src/store/types.js";
import { bearer, createTestBroker, type TestBroker } from "./helpers/broker.js";
import { freePort } from "./helpers/net.js";
import { storeFactories } from "./helpers/stores.js";

// The whole life of a session through HTTP only, as an orchestrator, an agent, a downstream
// service and an auditor would see it.
for (const factory of storeFactories()) {
  describe(`session life over HTTP (${factory.name} store)`, () => {
    let store: Store;
    let broker: TestBroker;
    let api: string;
    let metadata: string;
    const issued: string[] = [];

    before(async () => {
      store = await factory.create();
      const apiPort = await freePort();
      broker = await createTestBroker({ store, config: { publicUrl: `http://127.0.0.1:${apiPort}` } });
      await broker.apps.api.listen({ host: "127.0.0.1", port: apiPort });
      await broker.apps.metadata.listen({ host: "127.0.0.1", port: 0 });
      api = `http://127.0.0.1:${apiPort}`;
      const address = broker.apps.metadata.server.address();
      metadata = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    });
    after(async () => {
      await broker.close();
      await store.close();
    });

    const call = async (method: string, path: string, key: string, body?: unknown) => {
      const response = await fetch(`${api}${path}`, {
        method,
        headers: { ...bearer(key), ...(body === undefined ? {} : { "content-type": "application/json" }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return {
        status: response.status,
        type: response.headers.get("content-type"),
        body: (await response.json()) as any,
      };
    };

    test("open → agent reads → task credential → verify downstream → end → revoked → audited", async () => {
      const opened = await call("POST", "/v1/sessions", broker.keys.orchA, {
        sessionId: "e2e-session-1",
        scopes: ["build"],
        ttlSeconds: 900,
        labels: { task: "unit-tests" },
      });
      assert.equal(opened.status, 201);
      assert.equal(opened.body.session.state, "active");
      assert.match(opened.body.agentToken, /^lka_e2e-session-1\.[A-Za-z0-9_-]{43}$/);
      assert.equal(opened.body.metadataUrl, broker.metadataUrl);
      const [credential] = opened.body.credentials;
      assert.equal(credential.provider, "jwt");
      issued.push(opened.body.agentToken, credential.secret.token);

      // The agent reads its token from the metadata endpoint with the agent token alone.
      const grants = await fetch(`${metadata}/v1/credentials`, {
        headers: { authorization: opened.body.agentToken },
      });
      assert.equal(grants.status, 200);
      assert.deepEqual(
        ((await grants.json()) as any).grants.map((g: any) => `${g.provider}/${g.grant}`),
        ["jwt/api"],
      );
      const read = await fetch(`${metadata}/v1/credentials/jwt/api`, {
        headers: bearer(opened.body.agentToken),
      });
      assert.equal(read.status, 200);
      const agentView = (await read.json()) as { token: string; expiresAt: string };
      assert.equal(agentView.token, credential.secret.token);

      // The orchestrator asks for a narrower token for one task.
      const task = await call("POST", "/v1/sessions/e2e-session-1/credentials", broker.keys.orchA, {
        scope: "build",
        grant: "api",
        narrow: { ttlSeconds: 120, audience: "https://other.test.example", claims: ["role"] },
      });
      assert.equal(task.status, 201);
      issued.push(task.body.secret.token);

      // A downstream service verifies the way it would in production: discovery, then remote JWKS.
      const discovery = (await (await fetch(`${api}/.well-known/openid-configuration`)).json()) as any;
      assert.equal(discovery.issuer, api);
      for (const field of [
        "response_types_supported",
        "subject_types_supported",
        "id_token_signing_alg_values_supported",
      ]) {
        assert.ok(Array.isArray(discovery[field]), `${field} is published`);
      }
      const jwks = createRemoteJWKSet(new URL(discovery.jwks_uri));
      const verified = await jwtVerify(task.body.secret.token, jwks, {
        issuer: discovery.issuer,
        audience: "https://other.test.example",
        typ: "at+jwt",
      });
      assert.equal(verified.payload.sub, "e2e-session-1");
      assert.equal(verified.payload.client_id, "orch-a");
      assert.equal(verified.payload.role, "builder");
      assert.equal(verified.payload.team, undefined, "a claim left out by narrowing is absent");
      assert.equal((verified.payload.exp as number) - (verified.payload.iat as number), 120);
      assert.equal(verified.protectedHeader.alg, "ES256");

      const introspect = async (token: string) =>
        (await fetch(`${api}/v1/introspect`, {
          method: "POST",
          headers: { ...bearer(broker.keys.auditor), "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ token }).toString(),
        }).then((r) => r.json())) as any;
      assert.equal((await introspect(agentView.token)).active, true);

      const ended = await call("DELETE", "/v1/sessions/e2e-session-1", broker.keys.orchA);
      assert.equal(ended.status, 200);
      assert.equal(ended.body.session.state, "ended");
      assert.equal(ended.body.revoked, 2);
      assert.equal(ended.body.pending, 0);
      assert.deepEqual(
        ended.body.credentials.map((c: any) => c.state),
        ["revoked", "revoked"],
      );

      // Ended means dead at once: for introspection, for the agent, and for a second DELETE.
      assert.deepEqual(await introspect(agentView.token), { active: false });
      assert.deepEqual(await introspect(task.body.secret.token), { active: false });
      const after = await fetch(`${metadata}/v1/credentials/jwt/api`, {
        headers: { authorization: opened.body.agentToken },
      });
      assert.equal(after.status, 401);
      assert.equal(after.headers.get("content-type"), "application/problem+json; charset=utf-8");
      const again = await call("DELETE", "/v1/sessions/e2e-session-1", broker.keys.orchA);
      assert.equal(again.status, 200);
      assert.equal(again.body.revoked, 2);

      // The auditor sees the whole story, oldest first.
      const audit = await call("GET", "/v1/audit?sessionId=e2e-session-1&order=oldest", broker.keys.auditor);
      assert.equal(audit.status, 200);
      assert.deepEqual(
        audit.body.events.map((e: any) => e.action),
        [
          "credential.issued",
          "session.opened",
          "credential.read",
          "credential.issued",
          "credential.revoked",
          "credential.revoked",
          "session.ended",
        ],
      );
      const verifyResult = await call("GET", "/v1/audit/verify", broker.keys.auditor);
      assert.equal(verifyResult.body.ok, true);
    });

    test("no secret issued above appears in logs, the audit export, or /metrics", async () => {
      assert.ok(issued.length >= 3);
      const exported = await (
        await fetch(`${api}/v1/audit/export`, { headers: bearer(broker.keys.auditor) })
      ).text();
      const metrics = await (await fetch(`${api}/metrics`)).text();
      const logs = broker.logs.join("");
      assert.ok(exported.includes("e2e-session-1"), "the export is not empty");
      for (const secret of issued) {
        for (const [where, text] of [
          ["logs", logs],
          ["audit export", exported],
          ["metrics", metrics],
        ] as const) {
          assert.equal(text.includes(secret), false, `a secret leaked into ${where}`);
          // Any 20-character slice of a secret counts as a leak too.
          assert.equal(text.includes(secret.slice(-20)), false, `part of a secret leaked into ${where}`);
        }
      }
      assert.equal(metrics.includes("e2e-session-1"), false, "session ids are not metric labels");
    });
  });
}
