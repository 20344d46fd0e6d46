import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createMemoryStore } from "../src/store/memory.js";
import { bearer, createTestBroker, type TestBroker } from "./helpers/broker.js";

// Bad input of every kind gets a precise 4xx problem document; nothing crashes, nothing leaks.
describe("malformed requests", () => {
  let broker: TestBroker;
  before(async () => {
    broker = await createTestBroker({ store: createMemoryStore(), config: { limits: { bodyBytes: 2048 } } });
  });
  after(() => broker.close());

  const rows: {
    name: string;
    method: "GET" | "POST" | "DELETE" | "PUT";
    url: string;
    headers?: Record<string, string>;
    payload?: string;
    status: number;
    code: string;
    detail?: RegExp;
  }[] = [
    { name: "unknown route", method: "GET", url: "/v1/nothing-here", status: 404, code: "NOT_FOUND" },
    {
      name: "unknown method on a known path",
      method: "PUT",
      url: "/v1/sessions",
      status: 404,
      code: "NOT_FOUND",
    },
    {
      name: "invalid JSON",
      method: "POST",
      url: "/v1/sessions",
      headers: { "content-type": "application/json" },
      payload: '{"sessionId":',
      status: 400,
      code: "BAD_REQUEST",
      detail: /not valid JSON/,
    },
    {
      name: "empty JSON body: what is missing",
      method: "POST",
      url: "/v1/sessions",
      headers: { "content-type": "application/json" },
      payload: "",
      status: 400,
      code: "VALIDATION_FAILED",
      detail: /^body\.sessionId: /,
    },
    {
      name: "oversized body",
      method: "POST",
      url: "/v1/sessions",
      headers: { "content-type": "application/json" },
      payload: JSON.stringify({ sessionId: "x".repeat(4000) }),
      status: 413,
      code: "PAYLOAD_TOO_LARGE",
    },
    {
      name: "unsupported content type",
      method: "POST",
      url: "/v1/sessions",
      headers: { "content-type": "application/xml" },
      payload: "<a/>",
      status: 415,
      code: "UNSUPPORTED_MEDIA_TYPE",
    },
    {
      name: "unknown field",
      method: "POST",
      url: "/v1/sessions",
      headers: { "content-type": "application/json" },
      payload: JSON.stringify({ sessionId: "ok-id", scopes: ["build"], admin: true }),
      status: 400,
      code: "VALIDATION_FAILED",
      detail: /^body\.admin: unknown field$/,
    },
    {
      name: "bad session id",
      method: "POST",
      url: "/v1/sessions",
      headers: { "content-type": "application/json" },
      payload: JSON.stringify({ sessionId: "../etc", scopes: ["build"] }),
      status: 400,
      code: "VALIDATION_FAILED",
      detail: /^body\.sessionId: must match/,
    },
    {
      name: "wrong type",
      method: "POST",
      url: "/v1/sessions",
      headers: { "content-type": "application/json" },
      payload: JSON.stringify({ sessionId: "ok-id", scopes: "build" }),
      status: 400,
      code: "VALIDATION_FAILED",
      detail: /^body\.scopes:/,
    },
    {
      name: "prototype pollution",
      method: "POST",
      url: "/v1/sessions",
      headers: { "content-type": "application/json" },
      payload: '{"sessionId":"ok-id","scopes":["build"],"__proto__":{"x":1}}',
      status: 400,
      code: "BAD_REQUEST",
    },
    {
      name: "bad path parameter",
      method: "GET",
      url: "/v1/sessions/a%20b",
      status: 400,
      code: "VALIDATION_FAILED",
      detail: /^params\.id/,
    },
    {
      name: "bad audit filter",
      method: "GET",
      url: "/v1/audit?action=session.hacked",
      status: 400,
      code: "VALIDATION_FAILED",
      detail: /^query\.action/,
    },
    {
      name: "bad audit cursor",
      method: "GET",
      url: "/v1/audit?cursor=abc",
      status: 400,
      code: "VALIDATION_FAILED",
      detail: /^query\.cursor/,
    },
    {
      name: "TTL out of range",
      method: "POST",
      url: "/v1/sessions",
      headers: { "content-type": "application/json" },
      payload: JSON.stringify({ sessionId: "ok-id", scopes: ["build"], ttlSeconds: 5 }),
      status: 400,
      code: "VALIDATION_FAILED",
      detail: /^body\.ttlSeconds/,
    },
  ];

  for (const row of rows) {
    test(`${row.name} → ${row.status} ${row.code}`, async () => {
      const key = row.url.startsWith("/v1/audit") ? broker.keys.auditor : broker.keys.orchA;
      const response = await broker.apps.api.inject({
        method: row.method,
        url: row.url,
        headers: { ...bearer(key), ...row.headers },
        ...(row.payload === undefined ? {} : { payload: row.payload }),
      });
      assert.equal(response.statusCode, row.status, response.body);
      assert.equal(response.headers["content-type"], "application/problem+json; charset=utf-8");
      const problem = response.json();
      assert.equal(problem.code, row.code);
      if (row.detail) assert.match(problem.detail, row.detail);
      assert.equal(response.body.includes("    at "), false, "no stack trace");
    });
  }

  test("after all of that the broker still serves", async () => {
    assert.equal((await broker.apps.api.inject({ method: "GET", url: "/healthz" })).statusCode, 200);
  });

  test("a widening request names the field it widens", async () => {
    const opened = await broker.apps.api.inject({
      method: "POST",
      url: "/v1/sessions",
      headers: bearer(broker.keys.orchA),
      payload: { sessionId: "widen-me", scopes: ["build"] },
    });
    assert.equal(opened.statusCode, 201);
    const cases: [unknown, string][] = [
      [{ ttlSeconds: 601 }, "narrow.ttlSeconds"],
      [{ audience: "https://evil.example" }, "narrow.audience"],
      [{ claims: ["admin"] }, "narrow.claims"],
    ];
    for (const [narrow, field] of cases) {
      const response = await broker.apps.api.inject({
        method: "POST",
        url: "/v1/sessions/widen-me/credentials",
        headers: bearer(broker.keys.orchA),
        payload: { scope: "build", grant: "api", narrow },
      });
      assert.equal(response.statusCode, 403, response.body);
      assert.equal(response.json().code, "GRANT_WIDENING");
      assert.equal(response.json().field, field);
    }
    const unknownNarrow = await broker.apps.api.inject({
      method: "POST",
      url: "/v1/sessions/widen-me/credentials",
      headers: bearer(broker.keys.orchA),
      payload: { scope: "build", grant: "api", narrow: { roleArn: "arn:aws:iam::1:role/x" } },
    });
    assert.equal(unknownNarrow.json().code, "VALIDATION_FAILED");
  });
});

describe("logging", () => {
  test("a secret in a header, the query string or the body leaves no trace in the log", async () => {
    const broker = await createTestBroker({ store: createMemoryStore() });
    try {
      const secret = `s3cr3t-${Math.random().toString(36).slice(2)}-value`;
      await broker.apps.api.inject({
        method: "POST",
        url: `/v1/sessions?token=${secret}`,
        headers: { authorization: `Bearer ${secret}` },
        payload: { sessionId: secret },
      });
      await broker.apps.api.inject({
        method: "POST",
        url: "/v1/introspect",
        headers: { ...bearer(broker.keys.auditor), cookie: `s=${secret}` },
        payload: { token: secret },
      });
      await broker.apps.metadata.inject({
        method: "GET",
        url: "/v1/credentials",
        headers: { authorization: secret, "x-aws-ec2-metadata-token": secret },
      });
      await broker.apps.api.inject({
        method: "POST",
        url: "/v1/sessions",
        headers: { ...bearer(broker.keys.orchA), "content-type": "application/json" },
        payload: `{"sessionId":"${secret}`,
      });
      const logs = broker.logs.join("");
      assert.ok(logs.includes("incoming request"), "requests were logged");
      assert.equal(logs.includes(secret), false);
      assert.equal(logs.includes(secret.slice(0, 14)), false);
    } finally {
      await broker.close();
    }
  });
});
