// The GitHub emulator as Latchkey's GitHub provider will meet it: the real @octokit/auth-app and
// @octokit/request against a real HTTP server, with GitHub's answers asserted exactly.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { request } from "@octokit/request";
import { type GithubAppSpec, type GithubEmulator, startGithubEmulator } from "./github/index.js";
import { appAuth, manualClock, schemaMismatches } from "./github/test-support.js";

const mintDocs = "https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app";
const repoDocs = "https://docs.github.com/rest/repos/repos#get-a-repository";

const apps: GithubAppSpec[] = [
  {
    id: 4101,
    slug: "latchkey-main",
    installations: [
      {
        id: 51,
        account: { login: "acme", type: "Organization", id: 9001 },
        repositories: [
          { name: "web", id: 1001 },
          { name: "api", id: 1002 },
          { name: "docs", id: 1003, private: false },
        ],
        permissions: { contents: "write", pull_requests: "write", metadata: "read" },
      },
      {
        id: 52,
        account: { login: "dev-user", type: "User", id: 9002 },
        repositories: [{ name: "dotfiles", id: 1004 }],
        repositorySelection: "all",
        permissions: { contents: "read", metadata: "read" },
      },
    ],
  },
  {
    id: 4102,
    slug: "latchkey-infra",
    installations: [
      {
        id: 61,
        account: { login: "acme", type: "Organization" },
        repositories: [{ name: "infra", id: 1005 }],
        permissions: { issues: "write" },
      },
    ],
  },
];

interface HttpError extends Error {
  status: number;
  response?: { data: unknown; headers: Record<string, string | undefined> };
}

/** The HttpError (@octokit/request-error) a call rejects with. */
async function httpError(promise: Promise<unknown>): Promise<HttpError> {
  const error = await promise.then(
    () => assert.fail("expected the request to fail"),
    (e: unknown) => e,
  );
  assert.ok(
    error instanceof Error && error.name === "HttpError",
    `expected an HttpError, got ${String(error)}`,
  );
  return error as HttpError;
}

describe("GitHub emulator with @octokit/auth-app", () => {
  const clock = manualClock();
  let emulator: GithubEmulator;
  let api: typeof request;

  before(async () => {
    emulator = await startGithubEmulator({ now: clock.now, apps });
    api = request.defaults({ baseUrl: emulator.baseUrl });
  });
  after(() => emulator.close());

  const expiresIn1h = () => new Date(clock.now() + 3_600_000).toISOString().replace(".000Z", "Z");
  const withToken = (token: string) => ({ headers: { authorization: `token ${token}` } });
  const appJwt = async (appId: number) => (await appAuth(emulator, appId)({ type: "app" })).token;

  test("mints a token narrowed to named repositories and fewer permissions", async () => {
    const auth = await appAuth(
      emulator,
      4101,
    )({
      type: "installation",
      installationId: 51,
      repositoryNames: ["web"],
      permissions: { contents: "read" },
    });
    assert.match(auth.token, /^ghs_[A-Za-z0-9]{36}$/);
    assert.equal(auth.installationId, 51);
    assert.deepEqual(auth.permissions, { contents: "read" });
    assert.equal(auth.repositorySelection, "selected");
    assert.deepEqual(auth.repositoryNames, ["web"]);
    assert.deepEqual(auth.repositoryIds, [1001]);
    assert.equal(auth.expiresAt, expiresIn1h());
    assert.equal(emulator.tokenState(auth.token), "live");
    assert.deepEqual(emulator.issuedTokens.at(-1), {
      appId: 4101,
      installationId: 51,
      format: "classic",
      repositories: ["web"],
      permissions: { contents: "read" },
      expiresAt: expiresIn1h(),
    });
  });

  test("mints a token narrowed by repository ids, and by names and ids together", async () => {
    const auth = appAuth(emulator, 4101);
    const byIds = await auth({ type: "installation", installationId: 51, repositoryIds: [1002] });
    assert.deepEqual(byIds.repositoryNames, ["api"]);
    assert.deepEqual(byIds.permissions, { contents: "write", pull_requests: "write", metadata: "read" });

    const { data, status } = await api("POST /app/installations/{installation_id}/access_tokens", {
      installation_id: 51,
      repositories: ["WEB"],
      repository_ids: [1002, 1001],
      headers: { authorization: `Bearer ${await appJwt(4101)}` },
    });
    assert.equal(status, 201);
    assert.deepEqual(
      data.repositories?.map((r) => [r.id, r.full_name, r.private, r.owner.login]),
      [
        [1001, "acme/web", true, "acme"],
        [1002, "acme/api", true, "acme"],
      ],
    );
  });

  test("accepts the client id as the JWT issuer", async () => {
    const auth = await appAuth(emulator, 4101, { useClientId: true })({
      type: "installation",
      installationId: 52,
    });
    assert.match(emulator.app(4101).clientId, /^Iv23li[A-Za-z0-9]{14}$/);
    assert.deepEqual(auth.permissions, { contents: "read", metadata: "read" });
    assert.equal(auth.repositorySelection, "all");
    assert.equal(auth.repositoryNames, undefined);
  });

  test("an unnarrowed token gets every granted permission and no repositories list", async () => {
    const { data } = await api("POST /app/installations/{installation_id}/access_tokens", {
      installation_id: 51,
      headers: { authorization: `Bearer ${await appJwt(4101)}` },
    });
    assert.deepEqual(Object.keys(data).sort(), [
      "expires_at",
      "permissions",
      "repository_selection",
      "token",
    ]);
    assert.deepEqual(data.permissions, { contents: "write", pull_requests: "write", metadata: "read" });
    assert.equal(data.repository_selection, "selected");
    assert.equal(data.expires_at, expiresIn1h());
    assert.deepEqual(emulator.issuedTokens.at(-1)?.repositories, ["web", "api", "docs"]);
  });

  test("a permission or repository the installation lacks is a 422 with GitHub's message", async () => {
    const auth = appAuth(emulator, 4101);
    const notGranted = await httpError(
      auth({ type: "installation", installationId: 51, permissions: { issues: "write" } }),
    );
    assert.equal(notGranted.status, 422);
    assert.equal(
      notGranted.message,
      `The permissions requested are not granted to this installation. - ${mintDocs}`,
    );
    assert.deepEqual(notGranted.response?.data, {
      message: "The permissions requested are not granted to this installation.",
      documentation_url: mintDocs,
      status: "422",
    });

    const tooHigh = await httpError(
      auth({ type: "installation", installationId: 51, permissions: { metadata: "write" } }),
    );
    assert.equal(tooHigh.status, 422);

    const otherRepo = await httpError(
      auth({ type: "installation", installationId: 51, repositoryNames: ["infra"] }),
    );
    assert.equal(otherRepo.status, 422);
    assert.equal(
      otherRepo.message,
      `There is at least one repository that does not exist or is not accessible to the parent installation. - ${mintDocs}`,
    );
    const unknownId = await httpError(
      auth({ type: "installation", installationId: 51, repositoryIds: [1005] }),
    );
    assert.equal(unknownId.status, 422);
  });

  test("malformed mint requests get GitHub's 400 and 422 answers", async () => {
    const jwt = await appJwt(4101);
    const mint = (body: string) =>
      fetch(`${emulator.baseUrl}/app/installations/51/access_tokens`, {
        method: "POST",
        headers: { authorization: `Bearer ${jwt}`, "content-type": "application/json" },
        body,
      }).then(async (r) => [r.status, await r.json()]);

    assert.deepEqual(await mint("{not json"), [
      400,
      { message: "Problems parsing JSON", documentation_url: mintDocs, status: "400" },
    ]);
    const cases: [unknown, string][] = [
      [
        { permissions: { "pull-requests": "read" } },
        'Invalid request.\n\n"pull-requests" is not a permitted key.',
      ],
      [
        { permissions: { contents: "execute" } },
        `Invalid request.\n\nFor 'properties/contents', "execute" is not one of ["read","write"].`,
      ],
      [{ permissions: "all" }, `Invalid request.\n\nFor 'properties/permissions', "all" is not an object.`],
      [{ repositories: "web" }, `Invalid request.\n\nFor 'properties/repositories', "web" is not an array.`],
      [{ repository_ids: ["1001"] }, `Invalid request.\n\nFor 'items', "1001" is not an integer.`],
      [
        { repositories: Array.from({ length: 501 }, (_, i) => `repo-${i}`) },
        "Invalid request.\n\nNo more than 500 repositories may be requested.",
      ],
    ];
    for (const [body, message] of cases) {
      assert.deepEqual(await mint(JSON.stringify(body)), [
        422,
        { message, documentation_url: mintDocs, status: "422" },
      ]);
    }
  });

  test("an unknown installation, or another app's, is a 404", async () => {
    const auth = appAuth(emulator, 4101);
    for (const installationId of [61, 999]) {
      const error = await httpError(auth({ type: "installation", installationId }));
      assert.equal(error.status, 404);
      assert.equal(error.message, `Not Found - ${mintDocs}`);
      assert.deepEqual(error.response?.data, {
        message: "Not Found",
        documentation_url: mintDocs,
        status: "404",
      });
    }
  });

  test("a JWT signed with another key is a 401", async () => {
    const wrongKey = emulator.app(4102).privateKeyPem;
    const error = await httpError(
      appAuth(emulator, 4101, { privateKey: wrongKey })({ type: "installation", installationId: 51 }),
    );
    assert.equal(error.status, 401);
    assert.equal(error.message, "A JSON web token could not be decoded - https://docs.github.com/rest");
  });

  test("a token reads only the repositories it was limited to, and public ones", async () => {
    const { token } = await appAuth(
      emulator,
      4101,
    )({
      type: "installation",
      installationId: 51,
      repositoryNames: ["web"],
      permissions: { contents: "read" },
    });
    const { status, data } = await api("GET /repos/{owner}/{repo}", {
      owner: "acme",
      repo: "web",
      ...withToken(token),
    });
    assert.equal(status, 200);
    assert.equal(data.id, 1001);
    assert.equal(data.full_name, "acme/web");
    assert.equal(data.private, true);
    assert.equal(data.visibility, "private");
    assert.equal(data.default_branch, "main");
    assert.equal(data.owner.type, "Organization");
    assert.equal(data.clone_url, `${emulator.baseUrl}/acme/web.git`);
    assert.equal(data.url, `${emulator.baseUrl}/repos/acme/web`);
    assert.equal(data.contents_url, `${emulator.baseUrl}/repos/acme/web/contents/{+path}`);
    assert.deepEqual(data.permissions, {
      admin: false,
      maintain: false,
      push: false,
      triage: false,
      pull: true,
    });

    for (const repo of ["api", "infra", "missing"]) {
      const error = await httpError(
        api("GET /repos/{owner}/{repo}", { owner: "acme", repo, ...withToken(token) }),
      );
      assert.equal(error.status, 404);
      assert.deepEqual(error.response?.data, {
        message: "Not Found",
        documentation_url: repoDocs,
        status: "404",
      });
    }
    const publicRepo = await api("GET /repos/{owner}/{repo}", {
      owner: "acme",
      repo: "docs",
      ...withToken(token),
    });
    assert.equal(publicRepo.data.visibility, "public");
    const anonymous = await api("GET /repos/{owner}/{repo}", { owner: "acme", repo: "docs" });
    assert.equal(anonymous.data.permissions, undefined);
    assert.equal(
      (await httpError(api("GET /repos/{owner}/{repo}", { owner: "acme", repo: "web" }))).status,
      404,
    );
  });

  test("installation lookups answer for the app's own installations only", async () => {
    const jwt = { headers: { authorization: `bearer ${await appJwt(4101)}` } };
    const self = await api("GET /app", jwt);
    assert.equal(self.data?.id, 4101);
    assert.equal(self.data?.slug, "latchkey-main");
    assert.equal(self.data?.client_id, emulator.app(4101).clientId);
    assert.equal(self.data?.installations_count, 2);
    assert.deepEqual(self.data?.permissions, { contents: "write", pull_requests: "write", metadata: "read" });

    const byId = await api("GET /app/installations/{installation_id}", { installation_id: 51, ...jwt });
    assert.equal(byId.data.id, 51);
    assert.equal(byId.data.app_id, 4101);
    assert.equal(byId.data.app_slug, "latchkey-main");
    assert.equal(byId.data.target_id, 9001);
    assert.equal(byId.data.target_type, "Organization");
    assert.equal(byId.data.repository_selection, "selected");
    assert.equal(byId.data.access_tokens_url, `${emulator.baseUrl}/app/installations/51/access_tokens`);
    assert.equal(
      byId.data.account && "login" in byId.data.account ? byId.data.account.login : undefined,
      "acme",
    );

    const byRepo = await api("GET /repos/{owner}/{repo}/installation", {
      owner: "ACME",
      repo: "web",
      ...jwt,
    });
    assert.equal(byRepo.data.id, 51);
    const byOrg = await api("GET /orgs/{org}/installation", { org: "acme", ...jwt });
    assert.equal(byOrg.data.id, 51);
    const byUser = await api("GET /users/{username}/installation", { username: "dev-user", ...jwt });
    assert.equal(byUser.data.id, 52);
    assert.equal(byUser.data.target_type, "User");
    // Installation 52 selects "all": any repository of dev-user belongs to it.
    const allRepos = await api("GET /repos/{owner}/{repo}/installation", {
      owner: "dev-user",
      repo: "dotfiles",
      ...jwt,
    });
    assert.equal(allRepos.data.id, 52);

    const missing: [string, Record<string, string | number>, string][] = [
      [
        "GET /app/installations/{installation_id}",
        { installation_id: 61 },
        "apps/apps#get-an-installation-for-the-authenticated-app",
      ],
      [
        "GET /repos/{owner}/{repo}/installation",
        { owner: "acme", repo: "infra" },
        "apps/apps#get-a-repository-installation-for-the-authenticated-app",
      ],
      [
        "GET /orgs/{org}/installation",
        { org: "dev-user" },
        "apps/apps#get-an-organization-installation-for-the-authenticated-app",
      ],
      [
        "GET /users/{username}/installation",
        { username: "nobody" },
        "apps/apps#get-a-user-installation-for-the-authenticated-app",
      ],
    ];
    for (const [route, params, docs] of missing) {
      const error = await httpError(api(route, { ...params, ...jwt }));
      assert.equal(error.status, 404, route);
      assert.deepEqual(error.response?.data, {
        message: "Not Found",
        documentation_url: `https://docs.github.com/rest/${docs}`,
        status: "404",
      });
    }
    const infra = await api("GET /repos/{owner}/{repo}/installation", {
      owner: "acme",
      repo: "infra",
      headers: { authorization: `Bearer ${await appJwt(4102)}` },
    });
    assert.equal(infra.data.id, 61);
  });

  test("revocation: 204, then 401 Bad credentials everywhere the token was accepted", async () => {
    const auth = appAuth(emulator, 4101);
    const { token } = await auth({ type: "installation", installationId: 51, repositoryNames: ["web"] });
    const { token: sibling } = await auth({
      type: "installation",
      installationId: 51,
      repositoryNames: ["web"],
    });
    assert.notEqual(token, sibling);

    const revoked = await api("DELETE /installation/token", withToken(token));
    assert.equal(revoked.status, 204);
    assert.equal(emulator.tokenState(token), "revoked");
    assert.equal(emulator.tokenState(sibling), "live");

    const badCredentials = {
      message: "Bad credentials",
      documentation_url: "https://docs.github.com/rest",
      status: "401",
    };
    const read = await httpError(
      api("GET /repos/{owner}/{repo}", { owner: "acme", repo: "web", ...withToken(token) }),
    );
    assert.equal(read.status, 401);
    assert.deepEqual(read.response?.data, badCredentials);
    const again = await httpError(
      api("DELETE /installation/token", { headers: { authorization: `Bearer ${token}` } }),
    );
    assert.equal(again.status, 401);
    assert.deepEqual(again.response?.data, badCredentials);
    const basic = Buffer.from(`x-access-token:${token}`).toString("base64");
    const git = await fetch(`${emulator.baseUrl}/acme/web.git/info/refs?service=git-upload-pack`, {
      headers: { authorization: `Basic ${basic}` },
    });
    assert.equal(git.status, 401);
    assert.equal(git.headers.get("www-authenticate"), 'Basic realm="GitHub"');

    const unknown = await httpError(api("DELETE /installation/token", withToken(`ghs_${"x".repeat(20)}`)));
    assert.deepEqual(unknown.response?.data, badCredentials);
    const anonymous = await httpError(api("DELETE /installation/token"));
    assert.deepEqual(anonymous.response?.data, {
      message: "Requires authentication",
      documentation_url: "https://docs.github.com/rest",
      status: "401",
    });
    assert.equal(
      (await api("GET /repos/{owner}/{repo}", { owner: "acme", repo: "web", ...withToken(sibling) })).status,
      200,
    );
  });

  test("a token expires one hour after minting on the emulator's clock", async () => {
    const clock = manualClock();
    const local = await startGithubEmulator({ now: clock.now, apps: [apps[1] as GithubAppSpec] });
    try {
      const { token } = await appAuth(local, 4102)({ type: "installation", installationId: 61 });
      const read = () =>
        request("GET /repos/{owner}/{repo}", {
          baseUrl: local.baseUrl,
          owner: "acme",
          repo: "infra",
          ...withToken(token),
        });
      clock.advance(3_599_999);
      assert.equal(local.tokenState(token), "live");
      assert.equal((await read()).status, 200);
      clock.advance(1);
      assert.equal(local.tokenState(token), "expired");
      assert.equal((await httpError(read())).status, 401);
      const revoke = request("DELETE /installation/token", { baseUrl: local.baseUrl, ...withToken(token) });
      assert.equal((await httpError(revoke)).status, 401);
      assert.equal(local.tokenState("never-issued"), "unknown");
    } finally {
      await local.close();
    }
  });

  test("every answer carries GitHub's headers, with Date on the emulator's clock", async () => {
    for (const path of ["/repos/acme/docs", "/repos/acme/web", "/no/such/route"]) {
      const response = await fetch(`${emulator.baseUrl}${path}`);
      assert.equal(response.headers.get("content-type"), "application/json; charset=utf-8");
      assert.equal(response.headers.get("date"), new Date(clock.now()).toUTCString());
      assert.match(
        response.headers.get("x-github-request-id") ?? "",
        /^[0-9A-F]{4}:[0-9A-F]{4}:[0-9A-F]{7}:[0-9A-F]{7}:[0-9A-F]{8}$/,
      );
    }
  });

  test("failNext makes the next calls of a route fail, then lets them through", async () => {
    const route = "POST /app/installations/:id/access_tokens";
    emulator.failNext(route, 500, 2);
    emulator.failNext(route, 403);
    const auth = appAuth(emulator, 4101);
    const mint = () => auth({ type: "installation", installationId: 51 });
    assert.equal((await httpError(mint())).status, 500);
    assert.equal((await httpError(mint())).status, 500);
    const limited = await httpError(mint());
    assert.equal(limited.status, 403);
    assert.equal(limited.response?.headers["x-ratelimit-remaining"], "0");
    assert.equal(
      (limited.response?.data as { message?: string } | undefined)?.message,
      "API rate limit exceeded.",
    );
    assert.match((await mint()).token, /^ghs_/);
    assert.deepEqual(
      emulator.requests
        .filter((r) => r.route === route)
        .slice(-4)
        .map((r) => r.status),
      [500, 500, 403, 201],
    );
    assert.throws(() => emulator.failNext("GET /nowhere", 500), TypeError);
    assert.throws(() => emulator.failNext(route, 200), TypeError);
  });

  test("an app added at run time can mint at once", async () => {
    emulator.addApp({
      id: 4103,
      slug: "late-app",
      tokenFormat: "stateless",
      installations: [
        {
          id: 71,
          account: { login: "late-org", type: "Organization" },
          repositories: ["svc"],
          permissions: { contents: "read" },
        },
      ],
    });
    const auth = await appAuth(emulator, 4103)({ type: "installation", installationId: 71 });
    assert.match(auth.token, /^ghs_4103_/);
    assert.throws(() => emulator.addApp({ id: 4103, slug: "again", installations: [] }), TypeError);
    assert.throws(() => emulator.app(1), TypeError);
  });

  test("every body it answered matches GitHub's published schema", () => {
    const { checked, mismatches } = schemaMismatches(emulator);
    assert.deepEqual(mismatches, []);
    assert.ok(checked > 40, `only ${checked} bodies were checked`);
  });
});
