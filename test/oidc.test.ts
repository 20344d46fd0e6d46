import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { createMemoryStore } from "../src/store/memory.js";
import { bearer, createTestBroker } from "./helpers/broker.js";

describe("Latchkey as a token issuer", () => {
  test("RS256 keys sign tokens that verify against the published JWKS", async () => {
    const broker = await createTestBroker({ store: createMemoryStore(), signingAlgorithm: "RS256" });
    try {
      const opened = await broker.apps.api.inject({
        method: "POST",
        url: "/v1/sessions",
        headers: bearer(broker.keys.orchA),
        payload: { sessionId: "rsa-one", scopes: ["build"] },
      });
      const token = opened.json().credentials[0].secret.token as string;
      assert.equal(decodeProtectedHeader(token).alg, "RS256");
      assert.equal(decodeProtectedHeader(token).typ, "at+jwt");
      const jwks = (await broker.apps.api.inject({ method: "GET", url: "/.well-known/jwks.json" })).json();
      assert.equal(jwks.keys[0].kty, "RSA");
      const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), {
        issuer: broker.issuer,
        typ: "at+jwt",
      });
      assert.equal(payload.sub, "rsa-one");
      for (const claim of ["iss", "sub", "aud", "exp", "iat", "jti", "client_id"])
        assert.ok(claim in payload, claim);
    } finally {
      await broker.close();
    }
  });

  test("RFC 7009: the owning client revokes a token; another client's request changes nothing; both get 200", async () => {
    const broker = await createTestBroker({ store: createMemoryStore() });
    try {
      const open = async (sessionId: string) =>
        (
          await broker.apps.api.inject({
            method: "POST",
            url: "/v1/sessions",
            headers: bearer(broker.keys.orchA),
            payload: { sessionId, scopes: ["build"] },
          })
        ).json().credentials[0].secret.token as string;
      const token = await open("revocable");
      const form = { "content-type": "application/x-www-form-urlencoded" };
      const active = async () =>
        (
          await broker.apps.api.inject({
            method: "POST",
            url: "/v1/introspect",
            headers: { ...bearer(broker.keys.auditor), ...form },
            payload: `token=${token}`,
          })
        ).json().active;
      const byOther = await broker.apps.api.inject({
        method: "POST",
        url: "/v1/revoke",
        headers: { ...bearer(broker.keys.orchB), ...form },
        payload: `token=${token}&token_type_hint=access_token`,
      });
      assert.equal(byOther.statusCode, 200);
      assert.equal(await active(), true);
      const garbage = await broker.apps.api.inject({
        method: "POST",
        url: "/v1/revoke",
        headers: { ...bearer(broker.keys.orchA), ...form },
        payload: "token=not-a-token",
      });
      assert.equal(garbage.statusCode, 200, "an invalid token is not an error (RFC 7009 §2.2)");
      const byOwner = await broker.apps.api.inject({
        method: "POST",
        url: "/v1/revoke",
        headers: { ...bearer(broker.keys.orchA), ...form },
        payload: `token=${token}`,
      });
      assert.equal(byOwner.statusCode, 200);
      assert.equal(await active(), false);
      const session = await broker.apps.api.inject({
        method: "GET",
        url: "/v1/sessions/revocable",
        headers: bearer(broker.keys.orchA),
      });
      assert.equal(session.json().session.state, "active", "the session itself stays open");
      assert.equal(session.json().credentials[0].state, "revoked");
      assert.equal(session.json().credentials[0].revokeReason, "requested");
    } finally {
      await broker.close();
    }
  });

  test("introspection of a live token answers its claims; of anything else only {active:false}", async () => {
    const broker = await createTestBroker({ store: createMemoryStore() });
    try {
      const opened = await broker.apps.api.inject({
        method: "POST",
        url: "/v1/sessions",
        headers: bearer(broker.keys.orchA),
        payload: { sessionId: "introspected", scopes: ["build"] },
      });
      const token = opened.json().credentials[0].secret.token as string;
      const introspect = (body: object) =>
        broker.apps.api.inject({
          method: "POST",
          url: "/v1/introspect",
          headers: bearer(broker.keys.orchB),
          payload: body,
        });
      const live = (await introspect({ token })).json();
      assert.equal(live.active, true);
      assert.equal(live.sub, "introspected");
      assert.equal(live.client_id, "orch-a");
      const forged = `${token.slice(0, -4)}AAAA`;
      for (const candidate of [forged, "x", `${token.split(".").slice(0, 2).join(".")}.`]) {
        assert.deepEqual((await introspect({ token: candidate })).json(), { active: false });
      }
    } finally {
      await broker.close();
    }
  });

  test("the audit trail is mirrored to a JSONL file, event for event", async () => {
    const dir = mkdtempSync(join(tmpdir(), "latchkey-audit-file-"));
    const file = join(dir, "audit.jsonl");
    const broker = await createTestBroker({ store: createMemoryStore(), config: { audit: { file } } });
    try {
      await broker.apps.api.inject({
        method: "POST",
        url: "/v1/sessions",
        headers: bearer(broker.keys.orchA),
        payload: { sessionId: "mirrored", scopes: ["build"] },
      });
      await broker.apps.api.inject({
        method: "DELETE",
        url: "/v1/sessions/mirrored",
        headers: bearer(broker.keys.orchA),
      });
      const exported = (
        await broker.apps.api.inject({
          method: "GET",
          url: "/v1/audit/export",
          headers: bearer(broker.keys.auditor),
        })
      ).body;
      assert.equal(readFileSync(file, "utf8"), exported);
    } finally {
      await broker.close();
    }
  });
});
