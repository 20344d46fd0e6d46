import assert from "node:assert/strict";
import { createPrivateKey, generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { FileProblemsError } from "../src/config/problems.js";
import { createLogger } from "../src/logging.js";
import { createGithubProvider } from "../src/providers/github/provider.js";
import type { Store } from "../src/store/types.js";
import { type GithubEmulator, startGithubEmulator } from "./emulators/github/index.js";
import { bearer, createTestBroker, type TestBroker } from "./helpers/broker.js";
import { createTestClock, type TestClock } from "./helpers/clock.js";
import { freePort } from "./helpers/net.js";
import { storeFactories } from "./helpers/stores.js";

// The GitHub provider end to end: the broker's API and metadata endpoint in front, the GitHub
// emulator behind, tokens checked where GitHub would check them.

const APP_ID = 101;
const ACME = 9001;

const githubGrant = (overrides: Record<string, unknown> = {}) => ({
  name: "repo",
  provider: "github",
  app: "main",
  owner: "acme",
  installationId: ACME,
  repositories: ["web"],
  permissions: { contents: "read", metadata: "read" },
  ...overrides,
});

const scope = (name: string, ...grants: Record<string, unknown>[]) => ({
  name,
  description: `GitHub test scope ${name}`,
  maxTtlSeconds: 3600,
  grants,
});

const scopes = [
  scope("code", githubGrant()),
  scope(
    "code-write",
    githubGrant({ repositories: ["web", "api"], permissions: { contents: "write", pull_requests: "write" } }),
  ),
  scope(
    "by-owner",
    githubGrant({ installationId: undefined, owner: "octo-user", repositories: ["dotfiles"] }),
  ),
  scope("not-installed", githubGrant({ installationId: undefined, owner: "nobody" })),
  scope("too-much", githubGrant({ permissions: { contents: "read", issues: "write" } })),
  scope("ghost", githubGrant({ installationId: 4242 })),
  scope("stranger", githubGrant({ app: "stranger" })),
  scope("offline", githubGrant({ app: "offline" })),
  scope("by-client-id", githubGrant({ app: "legacy-key" })),
  scope("unconfigured", githubGrant({ app: "missing" })),
];

async function startEmulator(): Promise<GithubEmulator> {
  return startGithubEmulator({
    apps: [
      {
        id: APP_ID,
        slug: "latchkey-test",
        installations: [
          {
            id: ACME,
            account: { login: "acme", type: "Organization" },
            repositories: ["web", "api", { name: "docs", private: false }],
            permissions: { contents: "write", metadata: "read", pull_requests: "write" },
          },
          {
            id: 9002,
            account: { login: "octo-user", type: "User" },
            repositories: ["dotfiles"],
            permissions: { contents: "read", metadata: "read" },
          },
        ],
      },
    ],
  });
}

for (const factory of storeFactories()) {
  describe(`GitHub provider (${factory.name} store)`, () => {
    let emulator: GithubEmulator;
    let store: Store;
    let broker: TestBroker;
    let clock: TestClock;
    let dir: string;
    /** Every token the broker handed out, to prove none leaked anywhere else. */
    const tokens = new Set<string>();
    /** Every answer body that must never hold a secret. */
    const bodies: string[] = [];

    before(async () => {
      emulator = await startEmulator();
      dir = await mkdtemp(join(tmpdir(), "latchkey-github-provider-"));
      const app = emulator.app(APP_ID);
      const keyFile = join(dir, "main.pem");
      await writeFile(keyFile, app.privateKeyPem, { mode: 0o600 });
      // The same key as GitHub's older downloads had it: PKCS#1.
      const pkcs1File = join(dir, "pkcs1.pem");
      await writeFile(
        pkcs1File,
        createPrivateKey(app.privateKeyPem).export({ type: "pkcs1", format: "pem" }) as string,
        { mode: 0o600 },
      );
      const strangerFile = join(dir, "stranger.pem");
      const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
      await writeFile(strangerFile, privateKey.export({ type: "pkcs8", format: "pem" }) as string);
      const common = { baseUrl: emulator.baseUrl, gitHost: emulator.host };
      clock = createTestClock(Date.now());
      store = await factory.create();
      broker = await createTestBroker({
        store,
        clock,
        scopes,
        config: {
          providers: {
            github: {
              apps: {
                main: { appId: APP_ID, privateKeyFile: keyFile, ...common },
                "legacy-key": { appId: app.clientId, privateKeyFile: pkcs1File, ...common },
                stranger: { appId: APP_ID, privateKeyFile: strangerFile, ...common },
                offline: {
                  appId: APP_ID,
                  privateKeyFile: keyFile,
                  baseUrl: `http://127.0.0.1:${await freePort()}`,
                },
              },
            },
          },
        },
      });
    });
    after(async () => {
      await broker.close();
      await store.close();
      await emulator.close();
      await rm(dir, { recursive: true, force: true });
    });

    const api = async (method: "GET" | "POST" | "DELETE", url: string, payload?: unknown) => {
      const response = await broker.apps.api.inject({
        method,
        url,
        headers: bearer(broker.keys.orchA),
        ...(payload === undefined ? {} : { payload: payload as object }),
      });
      // Only the answer that mints a credential may carry its secret.
      if (response.statusCode !== 201) bodies.push(response.body);
      return { status: response.statusCode, headers: response.headers, body: response.json() as any };
    };

    const open = async (sessionId: string, scopeName: string) => {
      const opened = await api("POST", "/v1/sessions", { sessionId, scopes: [scopeName] });
      for (const credential of opened.body.credentials ?? []) tokens.add(credential.secret.token);
      return opened;
    };

    const issue = async (sessionId: string, body: Record<string, unknown>) => {
      const issued = await api("POST", `/v1/sessions/${sessionId}/credentials`, body);
      if (issued.status === 201) tokens.add(issued.body.secret.token);
      return issued;
    };

    /** GitHub's own view of a token: can it read this repository? */
    const readRepo = async (token: string, repo: string) =>
      (
        await fetch(`${emulator.baseUrl}/repos/acme/${repo}`, {
          headers: { authorization: `token ${token}` },
        })
      ).status;

    const tokenRequests = () =>
      emulator.requests.filter((r) => r.route === "POST /app/installations/:id/access_tokens");

    test("a session gets its own token, limited to the grant's repositories and permissions", async () => {
      const opened = await open("gh-basic", "code");
      assert.equal(opened.status, 201);
      const [credential] = opened.body.credentials;
      assert.equal(credential.provider, "github");
      const token: string = credential.secret.token;
      assert.deepEqual(Object.keys(credential.secret), ["token"]);
      assert.deepEqual(credential.reference, {
        app: "main",
        appId: APP_ID,
        installationId: ACME,
        owner: "acme",
        repositories: "web",
        permissions: "contents:read,metadata:read",
        gitHost: emulator.host,
      });
      const issued = emulator.issuedTokens.at(-1);
      assert.deepEqual(issued?.repositories, ["web"]);
      assert.equal(credential.expiresAt, new Date(Date.parse(issued?.expiresAt ?? "")).toISOString());
      assert.deepEqual(tokenRequests().at(-1)?.status, 201);

      assert.equal(await readRepo(token, "web"), 200);
      assert.equal(await readRepo(token, "api"), 404, "another private repository is invisible");

      // The agent reads the same token from the metadata endpoint, and learns its git host.
      const agent = { authorization: opened.body.agentToken };
      const listing = await broker.apps.metadata.inject({ url: "/v1/credentials", headers: agent });
      assert.deepEqual(
        listing.json().grants.map((g: any) => [g.provider, g.grant, g.gitHost]),
        [["github", "repo", emulator.host]],
      );
      const read = await broker.apps.metadata.inject({ url: "/v1/credentials/github/repo", headers: agent });
      assert.equal(read.statusCode, 200);
      assert.deepEqual(read.json(), { token, expiresAt: credential.expiresAt });
    });

    test("a task credential narrows repositories and permission levels", async () => {
      assert.equal((await open("gh-narrow", "code-write")).status, 201);
      assert.deepEqual(tokenRequests().at(-1)?.status, 201);
      const narrowed = await issue("gh-narrow", {
        scope: "code-write",
        grant: "repo",
        narrow: { repositories: ["API"], permissions: { contents: "read" } },
      });
      assert.equal(narrowed.status, 201);
      assert.equal(narrowed.body.reference.repositories, "api");
      assert.equal(narrowed.body.reference.permissions, "contents:read");
      assert.deepEqual(emulator.issuedTokens.at(-1)?.permissions, { contents: "read" });
      assert.equal(await readRepo(narrowed.body.secret.token, "api"), 200);
      assert.equal(await readRepo(narrowed.body.secret.token, "web"), 404);
    });

    test("widening is refused by Latchkey before any call to GitHub", async () => {
      assert.equal((await open("gh-widen", "code")).status, 201);
      const before = emulator.requests.length;
      const cases = [
        {
          narrow: { permissions: { issues: "read" } },
          field: "narrow.permissions.issues",
          detail: "narrow.permissions.issues: the grant does not include this permission",
        },
        {
          narrow: { permissions: { contents: "admin" } },
          field: "narrow.permissions.contents",
          detail: "narrow.permissions.contents: the grant allows at most read",
        },
        {
          narrow: { repositories: ["web", "docs"] },
          field: "narrow.repositories",
          detail: "narrow.repositories: docs is not among the grant's repositories",
        },
      ];
      for (const { narrow, field, detail } of cases) {
        const refused = await issue("gh-widen", { scope: "code", grant: "repo", narrow });
        assert.equal(refused.status, 403, JSON.stringify(narrow));
        assert.equal(refused.body.code, "GRANT_WIDENING");
        assert.equal(refused.body.field, field);
        assert.equal(refused.body.detail, detail);
      }
      const malformed = await issue("gh-widen", {
        scope: "code",
        grant: "repo",
        narrow: { permissions: { "pull-requests": "read" } },
      });
      assert.equal(malformed.status, 400);
      assert.equal(malformed.body.code, "VALIDATION_FAILED");
      assert.equal(emulator.requests.length, before, "GitHub was never asked");
    });

    test("an installation is looked up by owner once, then remembered", async () => {
      const lookups = () => emulator.requests.filter((r) => r.route === "GET /users/:username/installation");
      const first = await open("gh-owner-1", "by-owner");
      const second = await open("gh-owner-2", "by-owner");
      assert.equal(first.status, 201);
      assert.equal(second.status, 201);
      assert.equal(first.body.credentials[0].reference.installationId, 9002);
      assert.equal(lookups().length, 1);
      assert.notEqual(first.body.credentials[0].secret.token, second.body.credentials[0].secret.token);

      // An installation GitHub no longer knows (uninstalled, reinstalled) is looked up afresh.
      emulator.failNext("POST /app/installations/:id/access_tokens", 404);
      const gone = await open("gh-owner-3", "by-owner");
      assert.equal(gone.status, 502);
      assert.equal(gone.body.detail, "GitHub knows no installation 9002 of GitHub app main (404).");
      assert.equal((await open("gh-owner-4", "by-owner")).status, 201);
      assert.equal(lookups().length, 2);
    });

    test("an app id given as client id, with a PKCS#1 key, mints too", async () => {
      const opened = await open("gh-client-id", "by-client-id");
      assert.equal(opened.status, 201, JSON.stringify(opened.body));
      assert.equal(opened.body.credentials[0].reference.appId, emulator.app(APP_ID).clientId);
    });

    test("GitHub's refusals become coded errors naming the app, installation and status", async () => {
      const cases: {
        scope: string;
        inject?: [number, number];
        status: number;
        code: string;
        detail: string | RegExp;
        githubStatus?: number;
        retryAfter?: number;
      }[] = [
        {
          scope: "too-much",
          status: 502,
          code: "PROVIDER_REJECTED",
          detail:
            "GitHub refused a token for installation 9001 of GitHub app main (422): The permissions requested are not granted to this installation.",
          githubStatus: 422,
        },
        {
          scope: "ghost",
          status: 502,
          code: "PROVIDER_REJECTED",
          detail: "GitHub knows no installation 4242 of GitHub app main (404).",
          githubStatus: 404,
        },
        {
          scope: "not-installed",
          status: 502,
          code: "PROVIDER_REJECTED",
          detail: "GitHub app main is not installed on nobody (404).",
          githubStatus: 404,
        },
        {
          scope: "stranger",
          status: 502,
          code: "PROVIDER_DENIED",
          detail:
            "GitHub refused the app credentials of installation 9001 of GitHub app stranger (401: A JSON web token could not be decoded).",
          githubStatus: 401,
        },
        {
          scope: "code",
          inject: [500, 1],
          status: 503,
          code: "PROVIDER_UNAVAILABLE",
          detail:
            "GitHub is unavailable for installation 9001 of GitHub app main (GitHub 500: Internal Server Error); try again.",
          githubStatus: 500,
          retryAfter: 5,
        },
        {
          scope: "code",
          inject: [403, 1],
          status: 503,
          code: "PROVIDER_UNAVAILABLE",
          detail:
            "GitHub rate-limited installation 9001 of GitHub app main (403: API rate limit exceeded.); try again later.",
          githubStatus: 403,
          retryAfter: 3600,
        },
        {
          scope: "code",
          inject: [429, 1],
          status: 503,
          code: "PROVIDER_UNAVAILABLE",
          detail:
            /^GitHub rate-limited installation 9001 of GitHub app main \(429: You have exceeded a secondary rate limit/,
          githubStatus: 429,
          retryAfter: 60,
        },
        {
          scope: "offline",
          status: 503,
          code: "PROVIDER_UNAVAILABLE",
          detail:
            /^GitHub is unavailable for installation 9001 of GitHub app offline \(GitHub unreachable: .+\); try again\.$/,
        },
        {
          scope: "unconfigured",
          status: 503,
          code: "PROVIDER_UNAVAILABLE",
          detail: "GitHub app missing is not configured under providers.github.apps on this broker.",
        },
      ];
      let n = 0;
      for (const c of cases) {
        if (c.inject) emulator.failNext("POST /app/installations/:id/access_tokens", ...c.inject);
        const opened = await open(`gh-error-${n++}`, c.scope);
        const label = `${c.scope} ${c.inject?.[0] ?? ""}`;
        assert.equal(opened.status, c.status, label);
        assert.equal(opened.headers["content-type"], "application/problem+json; charset=utf-8");
        assert.equal(opened.body.code, c.code, label);
        if (typeof c.detail === "string") assert.equal(opened.body.detail, c.detail, label);
        else assert.match(opened.body.detail, c.detail, label);
        assert.equal(opened.body.githubStatus, c.githubStatus, label);
        if (c.retryAfter !== undefined) {
          // GitHub's rate-limit reset is wall-clock time, read against the broker's clock, which
          // this suite holds still.
          const lag = c.inject?.[0] === 403 ? Math.round((Date.now() - clock.now()) / 1000) : 0;
          const seconds = Number(opened.headers["retry-after"]);
          assert.ok(Math.abs(seconds - c.retryAfter - lag) <= 2, `${label}: retry-after ${seconds}`);
        }
      }
      // A lookup that failed is not remembered: the same owner is asked again.
      const lookups = emulator.requests.filter((r) => r.route === "GET /users/:username/installation");
      assert.equal((await open("gh-error-again", "not-installed")).status, 502);
      assert.equal(
        emulator.requests.filter((r) => r.route === "GET /users/:username/installation").length,
        lookups.length + 1,
      );
    });

    test("ending the session revokes every token it was given", async () => {
      const opened = await open("gh-end", "code-write");
      const task = await issue("gh-end", {
        scope: "code-write",
        grant: "repo",
        narrow: { repositories: ["web"] },
      });
      const own = [opened.body.credentials[0].secret.token, task.body.secret.token] as string[];
      for (const token of own) assert.equal(emulator.tokenState(token), "live");

      const ended = await api("DELETE", "/v1/sessions/gh-end");
      assert.equal(ended.status, 200);
      assert.equal(ended.body.revoked, 2);
      assert.equal(ended.body.pending, 0);
      for (const token of own) {
        assert.equal(emulator.tokenState(token), "revoked");
        assert.equal(await readRepo(token, "web"), 401, "GitHub refuses a revoked token");
      }
    });

    test("a token leaked in output given to the scan endpoint is revoked at GitHub", async () => {
      const opened = await open("gh-leak", "code");
      const token: string = opened.body.credentials[0].secret.token;
      const kept = await issue("gh-leak", { scope: "code", grant: "repo" });
      assert.equal(await readRepo(token, "web"), 200);
      // Where an agent's git would print it: a remote URL with the token as its password.
      const scanned = await broker.apps.api.inject({
        method: "POST",
        url: "/v1/sessions/gh-leak/scan",
        headers: { ...bearer(broker.keys.orchA), "content-type": "text/plain" },
        payload: `$ git remote -v\norigin\thttps://x-access-token:${token}@${emulator.host}/acme/web.git (push)\n`,
      });
      bodies.push(scanned.body);
      assert.equal(scanned.statusCode, 200, scanned.body);
      assert.deepEqual(
        scanned.json().revoked.map((r: any) => `${r.sessionId}:${r.state}`),
        ["gh-leak:revoked"],
      );
      assert.equal(emulator.tokenState(token), "revoked");
      assert.equal(await readRepo(token, "web"), 401, "GitHub refuses the leaked token");
      assert.equal(
        await readRepo(kept.body.secret.token, "web"),
        200,
        "the session's other token still works",
      );
    });

    test("a failed DELETE stays revocation_pending until the worker revokes it", async () => {
      const opened = await open("gh-pending", "code");
      const token: string = opened.body.credentials[0].secret.token;
      emulator.failNext("DELETE /installation/token", 502, 2);

      const ended = await api("DELETE", "/v1/sessions/gh-pending");
      assert.equal(ended.status, 200);
      assert.equal(ended.body.pending, 1);
      const [pending] = ended.body.credentials;
      assert.equal(pending.state, "revocation_pending");
      assert.equal(pending.revocationError, "GitHub 502: Bad Gateway");
      assert.equal(emulator.tokenState(token), "live");

      const state = async () => (await api("GET", "/v1/sessions/gh-pending")).body.credentials[0];
      clock.advance(6_000);
      await broker.worker.tick();
      assert.equal((await state()).state, "revocation_pending", "the second DELETE failed too");
      assert.equal(emulator.tokenState(token), "live");

      clock.advance(6_000);
      await broker.worker.tick();
      assert.equal((await state()).state, "revoked");
      assert.equal(emulator.tokenState(token), "revoked");
      assert.equal(await readRepo(token, "web"), 401);
      const deletes = emulator.requests.filter((r) => r.route === "DELETE /installation/token");
      assert.deepEqual(
        deletes.slice(-3).map((r) => r.status),
        [502, 502, 204],
      );

      const audit = await broker.apps.api.inject({
        url: "/v1/audit?sessionId=gh-pending&order=oldest",
        headers: bearer(broker.keys.auditor),
      });
      bodies.push(audit.body);
      assert.deepEqual(
        audit
          .json()
          .events.map((e: any) => e.action)
          .filter((a: string) => a.startsWith("credential.revo")),
        ["credential.revocation_failed", "credential.revocation_failed", "credential.revoked"],
      );
    });

    test("20 concurrent sessions with identical grants get 20 distinct tokens", async () => {
      const issuedBefore = emulator.issuedTokens.length;
      const requestsBefore = tokenRequests().length;
      const ids = Array.from({ length: 20 }, (_, i) => `gh-crowd-${i}`);
      const opened = await Promise.all(ids.map((id) => open(id, "code")));
      assert.deepEqual(
        opened.map((o) => o.status),
        ids.map(() => 201),
      );
      const crowd = new Set(opened.map((o) => o.body.credentials[0].secret.token as string));
      assert.equal(crowd.size, 20);
      assert.equal(emulator.issuedTokens.length - issuedBefore, 20);
      assert.equal(tokenRequests().length - requestsBefore, 20);

      const ended = await Promise.all(ids.map((id) => api("DELETE", `/v1/sessions/${id}`)));
      assert.deepEqual(
        ended.map((e) => e.body.revoked),
        ids.map(() => 1),
      );
      for (const token of crowd) assert.equal(emulator.tokenState(token), "revoked");
    });

    // Last but one: it moves the broker's clock 41 minutes ahead of GitHub's.
    test("the metadata endpoint re-mints before expiry; the session's end revokes both tokens", async () => {
      const opened = await open("gh-refresh", "code");
      const first: string = opened.body.credentials[0].secret.token;
      const agent = { authorization: opened.body.agentToken };
      const read = async () => {
        const response = await broker.apps.metadata.inject({
          url: "/v1/credentials/github/repo",
          headers: agent,
        });
        assert.equal(response.statusCode, 200);
        const token: string = response.json().token;
        tokens.add(token);
        return token;
      };
      assert.equal(await read(), first);
      clock.advance(41 * 60_000);
      const second = await read();
      assert.notEqual(second, first, "a third of the hour was left: re-minted");
      assert.equal(await read(), second);
      assert.equal(await readRepo(second, "web"), 200);

      const ended = await api("DELETE", "/v1/sessions/gh-refresh");
      assert.equal(ended.body.revoked, 2);
      assert.equal(emulator.tokenState(first), "revoked");
      assert.equal(emulator.tokenState(second), "revoked");
    });

    test("no token appears in logs, the audit export, or any other answer", async () => {
      assert.ok(tokens.size >= 25, `only ${tokens.size} tokens were collected`);
      const exported = await broker.apps.api.inject({
        url: "/v1/audit/export",
        headers: bearer(broker.keys.auditor),
      });
      assert.equal(exported.statusCode, 200);
      assert.ok(exported.body.includes("gh-crowd-19"), "the export is not empty");
      const places = [
        ["logs", broker.logs.join("")],
        ["audit export", exported.body],
        ["answers", bodies.join("\n")],
      ] as const;
      for (const token of tokens) {
        for (const [where, text] of places) {
          assert.equal(text.includes(token), false, `a token leaked into ${where}`);
          assert.equal(text.includes(token.slice(-20)), false, `part of a token leaked into ${where}`);
        }
      }
    });
  });
}

describe("GitHub provider on its own", () => {
  let emulator: GithubEmulator;
  let dir: string;
  const logger = createLogger({ level: "silent" });

  before(async () => {
    emulator = await startEmulator();
    dir = await mkdtemp(join(tmpdir(), "latchkey-github-keys-"));
    await writeFile(join(dir, "main.pem"), emulator.app(APP_ID).privateKeyPem);
  });
  after(async () => {
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  });

  const provider = () =>
    createGithubProvider({
      apps: {
        main: {
          appId: APP_ID,
          privateKeyFile: "main.pem",
          baseUrl: emulator.baseUrl,
          gitHost: emulator.host,
        },
      },
      baseDir: dir,
      logger,
    });

  const revokeContext = (overrides: Record<string, unknown>) => ({
    sessionId: "s",
    credentialId: "c",
    reference: { app: "main", installationId: ACME },
    issuedAt: Date.now(),
    expiresAt: Date.now() + 3_600_000,
    secret: undefined,
    now: Date.now(),
    ...overrides,
  });

  test("a token the broker no longer holds cannot be revoked, and says so", async () => {
    const outcome = await provider().revoke(revokeContext({}));
    assert.equal(outcome.state, "revocation_pending");
    assert.match(
      outcome.state === "revocation_pending" ? outcome.error : "",
      /^the broker no longer holds the token, so GitHub cannot be asked to revoke it; it expires at \d{4}-/,
    );
    assert.deepEqual(await provider().revoke(revokeContext({ expiresAt: Date.now() - 1 })), {
      state: "revoked",
      detail: "already expired",
    });
  });

  test("a token GitHub already refuses counts as revoked; other failures stay pending", async () => {
    const github = provider();
    const minted = await github.mint(githubGrant() as never, {
      sessionId: "s",
      scope: "code",
      clientId: "orch-a",
      credentialId: "c",
      notAfter: Date.now() + 3_600_000,
      now: Date.now(),
    });
    const context = revokeContext({ secret: minted.secret, expiresAt: minted.expiresAt });
    emulator.failNext("DELETE /installation/token", 429);
    const limited = await github.revoke(context);
    assert.deepEqual(limited, {
      state: "revocation_pending",
      error:
        "GitHub 429: You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
      retryable: true,
    });
    assert.deepEqual(await github.revoke(context), { state: "revoked" });
    assert.deepEqual(await github.revoke(context), {
      state: "revoked",
      detail: "GitHub no longer accepts the token",
    });
  });

  test("an unreadable or non-RSA key stops the broker at start, naming the field, never the key", async () => {
    const attempt = (privateKeyFile: string) => () =>
      createGithubProvider({
        apps: { main: { appId: APP_ID, privateKeyFile, baseUrl: emulator.baseUrl, gitHost: "github.com" } },
        baseDir: dir,
        logger,
      });
    assert.throws(attempt("absent.pem"), (error: unknown) => {
      assert.ok(error instanceof FileProblemsError);
      assert.deepEqual(error.problems, [
        {
          file: join(dir, "absent.pem"),
          field: "providers.github.apps.main.privateKeyFile",
          message: "cannot read the app's private key (ENOENT)",
          fix: "point privateKeyFile at the .pem file downloaded from the app's settings",
        },
      ]);
      return true;
    });
    const ecKey = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({
      type: "pkcs8",
      format: "pem",
    }) as string;
    await writeFile(join(dir, "ec.pem"), ecKey);
    assert.throws(attempt("ec.pem"), (error: unknown) => {
      assert.ok(error instanceof FileProblemsError);
      assert.equal(error.problems[0]?.message, "is not an RSA private key in PEM form (PKCS#8 or PKCS#1)");
      assert.equal(error.message.includes(ecKey.split("\n")[1] ?? "-"), false);
      return true;
    });
  });
});
