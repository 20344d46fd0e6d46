import assert from "node:assert/strict";
import { test } from "node:test";
import { createMemoryStore } from "../src/store/memory.js";
import { createTestBroker } from "./helpers/broker.js";

test("/openapi.json describes every route of the broker API, from the same schemas that validate requests", async () => {
  const broker = await createTestBroker({ store: createMemoryStore() });
  try {
    const response = await broker.apps.api.inject({ method: "GET", url: "/openapi.json" });
    assert.equal(response.statusCode, 200);
    const document = response.json();
    assert.equal(document.openapi, "3.1.0");
    const operations = Object.entries(document.paths as Record<string, Record<string, unknown>>).flatMap(
      ([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    assert.deepEqual(operations.sort(), [
      "DELETE /v1/sessions/{id}",
      "GET /.well-known/jwks.json",
      "GET /.well-known/openid-configuration",
      "GET /healthz",
      "GET /metrics",
      "GET /openapi.json",
      "GET /readyz",
      "GET /v1/audit",
      "GET /v1/audit/export",
      "GET /v1/audit/verify",
      "GET /v1/scopes",
      "GET /v1/sessions/{id}",
      "GET /v1/sessions/{id}/matchers",
      "POST /v1/introspect",
      "POST /v1/revoke",
      "POST /v1/sessions",
      "POST /v1/sessions/{id}/credentials",
      "POST /v1/sessions/{id}/scan",
    ]);
    const open = document.paths["/v1/sessions"].post;
    const schema = open.requestBody.content["application/json"].schema;
    assert.deepEqual(schema.required.sort(), ["scopes", "sessionId"]);
    assert.equal(
      schema.additionalProperties,
      false,
      "unknown fields are refused, and the description says so",
    );
    assert.equal(
      open.responses["403"].content["application/problem+json"].schema.$ref,
      "#/components/schemas/Problem",
    );
    assert.deepEqual(document.paths["/healthz"].get.security, [], "public routes need no key");
  } finally {
    await broker.close();
  }
});
