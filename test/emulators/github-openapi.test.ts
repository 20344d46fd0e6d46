// Holds the emulator to GitHub's published OpenAPI description (@octokit/openapi 23.0.2, extracted
// by github/openapi/extract.ts): a tour of every route and answer, each body validated with Ajv,
// and a negative control showing the validator does reject wrong bodies.
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { type GithubEmulator, startGithubEmulator } from "./github/index.js";
import { servedOperations } from "./github/openapi/operations.js";
import { loadExtractedSchemas } from "./github/openapi/schemas.js";
import { createResponseValidator } from "./github/openapi/validate.js";
import { appAuth, schemaMismatches, signAppJwt } from "./github/test-support.js";

const validator = createResponseValidator();

describe("the extracted GitHub schema file", () => {
  const schemas = loadExtractedSchemas();

  test("records its source and stays commit-sized", () => {
    assert.deepEqual(schemas.source, {
      package: "@octokit/openapi",
      version: "23.0.2",
      file: "generated/api.github.com.json",
      openapi: "3.0.3",
    });
    const size = statSync(new URL("./github/openapi/github-schemas.generated.json", import.meta.url)).size;
    assert.ok(size < 250_000, `${size} bytes`);
  });

  test("holds every served operation, in plain JSON Schema", () => {
    assert.deepEqual(
      Object.keys(schemas.operations).sort(),
      servedOperations.map((o) => o.operationId).sort(),
    );
    const text = JSON.stringify(schemas.components);
    assert.equal(text.includes('"nullable"'), false);
    assert.equal(
      schemas.operations["apps/create-installation-access-token"].documentationUrl,
      "https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app",
    );
  });

  test("the validator rejects deliberately broken bodies (negative control)", () => {
    const token = { token: "t", expires_at: "2026-11-27T10:00:00Z", permissions: { contents: "read" } };
    assert.deepEqual(validator.check("apps/create-installation-access-token", 201, token), []);
    const { expires_at: _dropped, ...withoutExpiry } = token;
    assert.deepEqual(validator.check("apps/create-installation-access-token", 201, withoutExpiry), [
      "/ must have required property 'expires_at'",
    ]);
    assert.deepEqual(
      validator.check("apps/create-installation-access-token", 201, {
        ...token,
        permissions: { contents: "admin" },
      }),
      ["/permissions/contents must be equal to one of the allowed values"],
    );
    assert.deepEqual(validator.check("apps/get-installation", 404, { message: "Not Found", status: 404 }), [
      "/status must be string",
    ]);
    assert.deepEqual(validator.check("apps/create-installation-access-token", 422, { message: "x" }), [
      "/ must have required property 'documentation_url'",
    ]);
    const repository = { ...schemas.templates.repository, private: "yes" };
    assert.deepEqual(validator.checkComponent("repository", repository), ["/private must be boolean"]);
  });

  test("nullable fields accept null after the rewrite, as GitHub sends them", () => {
    assert.deepEqual(
      validator.checkComponent("repository", { ...schemas.templates.repository, language: null }),
      [],
    );
    assert.deepEqual(
      validator.checkComponent("repository", { ...schemas.templates.repository, language: 7 }),
      ["/language must be string,null"],
    );
  });
});

describe("every emulator answer against GitHub's schema", () => {
  let emulator: GithubEmulator;
  before(async () => {
    emulator = await startGithubEmulator({
      apps: [
        {
          id: 6601,
          slug: "schema-app",
          installations: [
            {
              id: 66,
              account: { login: "acme", type: "Organization" },
              repositories: ["web", { name: "docs", private: false }],
              permissions: { contents: "write", metadata: "read" },
            },
            {
              id: 67,
              account: { login: "solo", type: "User" },
              repositories: ["notes"],
              repositorySelection: "all",
              permissions: { contents: "read" },
            },
          ],
        },
      ],
    });
  });
  after(() => emulator.close());

  test("a tour of every route, success and error, validates", async () => {
    const { privateKeyPem } = emulator.app(6601);
    const jwt = (await appAuth(emulator, 6601)({ type: "app" })).token;
    const now = Math.floor(Date.now() / 1000);
    const expired = await signAppJwt(privateKeyPem, { iss: 6601, iat: now - 700, exp: now - 100 });
    const unknownApp = await signAppJwt(privateKeyPem, { iss: 1, iat: now - 30, exp: now + 500 });
    const call = (method: string, path: string, authorization?: string, body?: unknown) =>
      fetch(`${emulator.baseUrl}${path}`, {
        method,
        headers: authorization === undefined ? {} : { authorization },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const mint = async (body?: unknown) => {
      const response = await call("POST", "/app/installations/66/access_tokens", `Bearer ${jwt}`, body);
      return ((await response.json()) as { token: string }).token;
    };

    const narrowed = await mint({ repositories: ["web", "docs"], permissions: { contents: "read" } });
    const unnarrowed = await mint();
    await call("POST", "/app/installations/67/access_tokens", `Bearer ${jwt}`);
    await call("POST", "/app/installations/66/access_tokens", `Bearer ${jwt}`, {
      permissions: { issues: "read" },
    });
    await call("POST", "/app/installations/66/access_tokens", `Bearer ${jwt}`, { repositories: "web" });
    await call("POST", "/app/installations/66/access_tokens", `Bearer ${jwt}`, "[");
    await call("POST", "/app/installations/99/access_tokens", `Bearer ${jwt}`);
    await call("POST", "/app/installations/66/access_tokens", `Bearer ${expired}`);
    await call("POST", "/app/installations/66/access_tokens", `Bearer ${unknownApp}`);
    for (const path of ["/app", "/app/installations/66", "/app/installations/99"]) {
      await call("GET", path, `Bearer ${jwt}`);
    }
    await call("GET", "/app");
    for (const path of ["/repos/acme/web/installation", "/repos/acme/nope/installation"]) {
      await call("GET", path, `Bearer ${jwt}`);
    }
    for (const path of ["/users/solo/installation", "/users/nobody/installation"]) {
      await call("GET", path, `Bearer ${jwt}`);
    }
    for (const path of ["/orgs/acme/installation", "/orgs/solo/installation"]) {
      await call("GET", path, `Bearer ${jwt}`);
    }
    for (const repo of ["web", "docs"]) await call("GET", `/repos/acme/${repo}`, `token ${narrowed}`);
    await call("GET", "/repos/solo/notes", `token ${narrowed}`);
    await call("GET", "/repos/acme/web", `token ${unnarrowed}`);
    await call("GET", "/repos/acme/docs");
    await call("DELETE", "/installation/token", `token ${narrowed}`);
    await call("DELETE", "/installation/token", `token ${narrowed}`);
    await call("DELETE", "/installation/token");
    await call("GET", "/repos/acme/web", `token ${narrowed}`);
    emulator.failNext("GET /repos/:owner/:repo", 403);
    emulator.failNext("GET /app", 500);
    emulator.failNext("GET /app", 429);
    await call("GET", "/repos/acme/docs");
    await call("GET", "/app", `Bearer ${jwt}`);
    await call("GET", "/app", `Bearer ${jwt}`);
    await call("GET", "/nothing/here");

    const seen = new Set(emulator.requests.map((r) => `${r.operationId ?? "unmatched"} ${r.status}`));
    assert.deepEqual([...seen].sort(), [
      "apps/create-installation-access-token 201",
      "apps/create-installation-access-token 400",
      "apps/create-installation-access-token 401",
      "apps/create-installation-access-token 404",
      "apps/create-installation-access-token 422",
      "apps/get-authenticated 200",
      "apps/get-authenticated 401",
      "apps/get-authenticated 429",
      "apps/get-authenticated 500",
      "apps/get-installation 200",
      "apps/get-installation 404",
      "apps/get-org-installation 200",
      "apps/get-org-installation 404",
      "apps/get-repo-installation 200",
      "apps/get-repo-installation 404",
      "apps/get-user-installation 200",
      "apps/get-user-installation 404",
      "apps/revoke-installation-access-token 204",
      "apps/revoke-installation-access-token 401",
      "repos/get 200",
      "repos/get 401",
      "repos/get 403",
      "repos/get 404",
      "unmatched 404",
    ]);
    const { checked, mismatches } = schemaMismatches(emulator, validator);
    assert.deepEqual(mismatches, []);
    assert.equal(checked, emulator.requests.length);
  });
});
