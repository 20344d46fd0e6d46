import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createMemoryStore } from "../src/store/memory.js";
import { bearer, createTestBroker, type TestBroker } from "./helpers/broker.js";

// The shared security table: every route of both listeners, with every kind of caller that must
// be refused, and the exact status and code each gets.

type Caller = "none" | "wrong" | "orchA" | "orchB" | "auditor" | "admin";
interface Row {
  method: "GET" | "POST" | "DELETE";
  url: string;
  caller: Caller;
  body?: unknown;
  status: number;
  code?: string;
}

const wrongKey = "lk_test_not-a-configured-key-000000000000";

describe("security table: broker API", () => {
  let broker: TestBroker;
  before(async () => {
    broker = await createTestBroker({
      store: createMemoryStore(),
      config: { limits: { authFailuresPerMinute: 10_000 } },
    });
    const opened = await broker.apps.api.inject({
      method: "POST",
      url: "/v1/sessions",
      headers: bearer(broker.keys.orchA),
      payload: { sessionId: "owned-by-a", scopes: ["build"] },
    });
    assert.equal(opened.statusCode, 201);
  });
  after(() => broker.close());

  const session = "/v1/sessions/owned-by-a";
  const issue = { scope: "build", grant: "api" };
  const rows: Row[] = [];
  const authRows = (
    method: Row["method"],
    url: string,
    body: unknown,
    allowed: Caller[],
    forbidden: Caller[],
  ) => {
    rows.push({ method, url, body, caller: "none", status: 401, code: "UNAUTHENTICATED" });
    rows.push({ method, url, body, caller: "wrong", status: 401, code: "UNAUTHENTICATED" });
    for (const caller of forbidden) rows.push({ method, url, body, caller, status: 403, code: "FORBIDDEN" });
    void allowed;
  };
  authRows("POST", "/v1/sessions", { sessionId: "new-one", scopes: ["build"] }, ["orchA"], ["auditor"]);
  authRows("POST", `${session}/credentials`, issue, ["orchA"], ["auditor"]);
  authRows("GET", session, undefined, ["orchA"], ["auditor"]);
  authRows("DELETE", session, undefined, ["orchA"], ["auditor"]);
  authRows("GET", "/v1/scopes", undefined, ["orchA"], ["auditor"]);
  authRows("GET", "/v1/audit", undefined, ["auditor"], ["orchA", "orchB"]);
  authRows("GET", "/v1/audit/export", undefined, ["auditor"], ["orchA"]);
  authRows("GET", "/v1/audit/verify", undefined, ["auditor"], ["orchA"]);
  authRows("POST", "/v1/introspect", { token: "x" }, ["orchA", "auditor"], []);
  authRows("POST", "/v1/revoke", { token: "x" }, ["orchA"], ["auditor"]);
  rows.push(
    // Another orchestrator's session is invisible, not forbidden: ids cannot be probed.
    { method: "GET", url: session, caller: "orchB", status: 404, code: "SESSION_NOT_FOUND" },
    { method: "DELETE", url: session, caller: "orchB", status: 404, code: "SESSION_NOT_FOUND" },
    {
      method: "POST",
      url: `${session}/credentials`,
      caller: "orchB",
      body: issue,
      status: 404,
      code: "SESSION_NOT_FOUND",
    },
    {
      method: "GET",
      url: "/v1/sessions/never-opened",
      caller: "orchA",
      status: 404,
      code: "SESSION_NOT_FOUND",
    },
    // A scope the orchestrator may not use: listed in its config but closed to it by the scope file.
    {
      method: "POST",
      url: "/v1/sessions",
      caller: "orchB",
      body: { sessionId: "b-deploy", scopes: ["deploy"] },
      status: 403,
      code: "SCOPE_NOT_ALLOWED",
    },
    {
      method: "POST",
      url: "/v1/sessions",
      caller: "orchB",
      body: { sessionId: "b-none", scopes: ["no-such-scope"] },
      status: 403,
      code: "SCOPE_NOT_ALLOWED",
    },
    // Allowed callers pass.
    { method: "GET", url: session, caller: "orchA", status: 200 },
    { method: "GET", url: session, caller: "admin", status: 200 },
    { method: "GET", url: "/v1/scopes", caller: "orchB", status: 200 },
    { method: "GET", url: "/v1/audit", caller: "auditor", status: 200 },
    { method: "GET", url: "/v1/audit", caller: "admin", status: 200 },
    { method: "POST", url: "/v1/introspect", caller: "auditor", body: { token: "x" }, status: 200 },
    { method: "POST", url: "/v1/introspect", caller: "orchB", body: { token: "x" }, status: 200 },
    // Public routes need no key.
    { method: "GET", url: "/healthz", caller: "none", status: 200 },
    { method: "GET", url: "/readyz", caller: "none", status: 200 },
    { method: "GET", url: "/metrics", caller: "none", status: 200 },
    { method: "GET", url: "/openapi.json", caller: "none", status: 200 },
    { method: "GET", url: "/.well-known/openid-configuration", caller: "none", status: 200 },
    { method: "GET", url: "/.well-known/jwks.json", caller: "none", status: 200 },
  );

  for (const row of rows) {
    test(`${row.method} ${row.url} as ${row.caller} → ${row.status}${row.code ? ` ${row.code}` : ""}`, async () => {
      const key =
        row.caller === "none" ? undefined : row.caller === "wrong" ? wrongKey : broker.keys[row.caller];
      const response = await broker.apps.api.inject({
        method: row.method,
        url: row.url,
        headers: key ? bearer(key) : {},
        ...(row.body === undefined ? {} : { payload: row.body as object }),
      });
      assert.equal(response.statusCode, row.status, response.body);
      assert.ok(response.headers["x-request-id"], "every answer carries a request id");
      if (row.code) {
        assert.equal(response.headers["content-type"], "application/problem+json; charset=utf-8");
        const problem = response.json();
        assert.equal(problem.code, row.code);
        assert.equal(problem.status, row.status);
        assert.equal(problem.requestId, response.headers["x-request-id"]);
        for (const field of ["type", "title", "detail"]) assert.equal(typeof problem[field], "string");
      }
      if (row.status === 401)
        assert.match(String(response.headers["www-authenticate"]), /^Bearer realm="latchkey"/);
    });
  }

  test("refused callers are counted in metrics and audited as auth.denied", async () => {
    const metrics = (await broker.apps.api.inject({ method: "GET", url: "/metrics" })).body;
    assert.match(metrics, /latchkey_auth_failures_total\{listener="api",reason="missing"\} [1-9]/);
    assert.match(metrics, /latchkey_auth_failures_total\{listener="api",reason="invalid"\} [1-9]/);
    assert.match(metrics, /latchkey_auth_failures_total\{listener="api",reason="forbidden"\} [1-9]/);
    const audit = await broker.apps.api.inject({
      method: "GET",
      url: "/v1/audit?action=auth.denied&limit=500",
      headers: bearer(broker.keys.auditor),
    });
    const reasons = new Set(audit.json().events.map((e: { reason: string }) => e.reason));
    assert.deepEqual([...reasons].sort(), ["forbidden", "invalid", "missing"]);
    assert.equal(audit.body.includes(wrongKey), false, "a refused key is never recorded");
  });
});

describe("security table: metadata endpoint", () => {
  let broker: TestBroker;
  const tokens: Record<string, string> = {};
  before(async () => {
    broker = await createTestBroker({
      store: createMemoryStore(),
      config: { limits: { authFailuresPerMinute: 10_000 } },
    });
    for (const id of ["agent-one", "agent-two", "agent-ended"]) {
      const opened = await broker.apps.api.inject({
        method: "POST",
        url: "/v1/sessions",
        headers: bearer(broker.keys.orchA),
        payload: { sessionId: id, scopes: [id === "agent-two" ? "deploy" : "build"] },
      });
      tokens[id] = opened.json().agentToken;
    }
    await broker.apps.api.inject({
      method: "DELETE",
      url: "/v1/sessions/agent-ended",
      headers: bearer(broker.keys.orchA),
    });
  });
  after(() => broker.close());

  const rows: {
    name: string;
    url: string;
    headers: (t: Record<string, string>) => Record<string, string>;
    status: number;
    code?: string;
  }[] = [
    { name: "no token", url: "/v1/credentials", headers: () => ({}), status: 401, code: "UNAUTHENTICATED" },
    {
      name: "wrong token",
      url: "/v1/credentials",
      headers: () => ({ authorization: "lka_wrongwrongwrongwrongwrong" }),
      status: 401,
      code: "UNAUTHENTICATED",
    },
    {
      name: "an API key instead of an agent token",
      url: "/v1/credentials",
      headers: () => bearer(broker.keys.admin),
      status: 401,
      code: "UNAUTHENTICATED",
    },
    {
      name: "ended session's token",
      url: "/v1/credentials/jwt/api",
      headers: (t) => ({ authorization: t["agent-ended"] as string }),
      status: 401,
      code: "UNAUTHENTICATED",
    },
    {
      name: "another session's grant name",
      url: "/v1/credentials/jwt/deploy-api",
      headers: (t) => ({ authorization: t["agent-one"] as string }),
      status: 404,
      code: "GRANT_NOT_FOUND",
    },
    {
      name: "X-Forwarded-For",
      url: "/v1/credentials",
      headers: (t) => ({ authorization: t["agent-one"] as string, "x-forwarded-for": "10.0.0.1" }),
      status: 403,
      code: "PROXIED_REQUEST",
    },
    {
      name: "Forwarded",
      url: "/v1/credentials",
      headers: (t) => ({ authorization: t["agent-one"] as string, forwarded: "for=10.0.0.1" }),
      status: 403,
      code: "PROXIED_REQUEST",
    },
    {
      name: "unknown provider",
      url: "/v1/credentials/gcp/api",
      headers: (t) => ({ authorization: t["agent-one"] as string }),
      status: 404,
      code: "NOT_FOUND",
    },
    {
      name: "raw token",
      url: "/v1/credentials/jwt/api",
      headers: (t) => ({ authorization: t["agent-one"] as string }),
      status: 200,
    },
    {
      name: "Bearer token",
      url: "/v1/credentials/jwt/api",
      headers: (t) => bearer(t["agent-one"] as string),
      status: 200,
    },
    {
      name: "own grant of the second session",
      url: "/v1/credentials/jwt/deploy-api",
      headers: (t) => ({ authorization: t["agent-two"] as string }),
      status: 200,
    },
  ];
  for (const row of rows) {
    test(`${row.name} → ${row.status}${row.code ? ` ${row.code}` : ""}`, async () => {
      const response = await broker.apps.metadata.inject({
        method: "GET",
        url: row.url,
        headers: row.headers(tokens),
      });
      assert.equal(response.statusCode, row.status, response.body);
      if (row.code) assert.equal(response.json().code, row.code);
    });
  }

  test("each agent sees only its own session's grants", async () => {
    const one = await broker.apps.metadata.inject({
      method: "GET",
      url: "/v1/credentials",
      headers: { authorization: tokens["agent-one"] as string },
    });
    const two = await broker.apps.metadata.inject({
      method: "GET",
      url: "/v1/credentials",
      headers: { authorization: tokens["agent-two"] as string },
    });
    assert.equal(one.json().sessionId, "agent-one");
    assert.deepEqual(
      one.json().grants.map((g: { grant: string }) => g.grant),
      ["api"],
    );
    assert.equal(two.json().sessionId, "agent-two");
    assert.deepEqual(
      two.json().grants.map((g: { grant: string }) => g.grant),
      ["deploy-api"],
    );
  });
});

describe("failed agent tokens are rate-limited per source", () => {
  test("past the limit even a valid token is refused with 429 until the window passes", async () => {
    const broker = await createTestBroker({
      store: createMemoryStore(),
      config: { limits: { authFailuresPerMinute: 3 } },
    });
    try {
      const opened = await broker.apps.api.inject({
        method: "POST",
        url: "/v1/sessions",
        headers: bearer(broker.keys.orchA),
        payload: { sessionId: "limited", scopes: ["build"] },
      });
      const good = opened.json().agentToken as string;
      const attempt = (authorization: string, remoteAddress: string) =>
        broker.apps.metadata.inject({
          method: "GET",
          url: "/v1/credentials",
          headers: { authorization },
          remoteAddress,
        });
      for (let i = 0; i < 3; i++)
        assert.equal((await attempt(`lka_guess${i}xxxxxxxxxxxxxxxx`, "10.9.9.9")).statusCode, 401);
      const limited = await attempt(good, "10.9.9.9");
      assert.equal(limited.statusCode, 429);
      assert.equal(limited.json().code, "RATE_LIMITED");
      assert.equal(limited.headers["retry-after"], "60");
      assert.equal((await attempt(good, "10.1.1.1")).statusCode, 200, "another source is not affected");
    } finally {
      await broker.close();
    }
  });
});
