import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { devNull, tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { main } from "../src/cli/main.js";
import { createMemoryStore } from "../src/store/memory.js";
import { type GithubEmulator, startGithubEmulator } from "./emulators/github/index.js";
import { bearer, createTestBroker, type TestBroker } from "./helpers/broker.js";
import { latchkeyBin } from "./helpers/cli.js";

// The git credential helper: real git asking `latchkey git-credential` for the session's GitHub
// token, and the helper's side of git's protocol in detail.

const run = promisify(execFile);

const githubGrant = (name: string, app: string, repositories: string[]) => ({
  name,
  provider: "github",
  app,
  owner: "acme",
  installationId: 9001,
  repositories,
  permissions: { contents: "read", metadata: "read" },
});

const scopes = [
  {
    name: "code",
    description: "Read the web repository",
    maxTtlSeconds: 3600,
    grants: [githubGrant("web", "main", ["web"])],
  },
  {
    name: "two-repos",
    description: "Two grants on the same git host",
    maxTtlSeconds: 3600,
    grants: [githubGrant("web", "main", ["web"]), githubGrant("api", "main", ["api"])],
  },
  {
    name: "elsewhere",
    description: "A grant for another git host",
    maxTtlSeconds: 3600,
    grants: [githubGrant("enterprise", "enterprise", ["web"])],
  },
];

describe("latchkey git-credential", () => {
  let emulator: GithubEmulator;
  let broker: TestBroker;
  let home: string;
  let metadataUrl: string;
  const tokens: string[] = [];

  before(async () => {
    emulator = await startGithubEmulator({
      apps: [
        {
          id: 301,
          slug: "latchkey-git",
          installations: [
            {
              id: 9001,
              account: { login: "acme", type: "Organization" },
              repositories: ["web", "api"],
              permissions: { contents: "read", metadata: "read" },
            },
          ],
        },
      ],
    });
    home = await mkdtemp(join(tmpdir(), "latchkey-git-credential-"));
    const keyFile = join(home, "app.pem");
    await writeFile(keyFile, emulator.app(301).privateKeyPem, { mode: 0o600 });
    const app = { appId: 301, privateKeyFile: keyFile, baseUrl: emulator.baseUrl };
    broker = await createTestBroker({
      store: createMemoryStore(),
      scopes,
      config: {
        providers: {
          github: {
            apps: {
              main: { ...app, gitHost: emulator.host },
              enterprise: { ...app, gitHost: "git.enterprise.invalid" },
            },
          },
        },
      },
    });
    await broker.apps.metadata.listen({ host: "127.0.0.1", port: 0 });
    const address = broker.apps.metadata.server.address();
    metadataUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  });
  after(async () => {
    await broker.close();
    await emulator.close();
    await rm(home, { recursive: true, force: true });
  });

  const open = async (sessionId: string, scope: string) => {
    const response = await broker.apps.api.inject({
      method: "POST",
      url: "/v1/sessions",
      headers: bearer(broker.keys.orchA),
      payload: { sessionId, scopes: [scope] },
    });
    assert.equal(response.statusCode, 201, response.body);
    const body = response.json();
    for (const credential of body.credentials) tokens.push(credential.secret.token);
    return {
      agentToken: body.agentToken as string,
      tokens: body.credentials.map((c: any) => c.secret.token) as string[],
      expiresAt: body.credentials.map((c: any) => c.expiresAt) as string[],
    };
  };

  const end = async (sessionId: string) => {
    const response = await broker.apps.api.inject({
      method: "DELETE",
      url: `/v1/sessions/${sessionId}`,
      headers: bearer(broker.keys.orchA),
    });
    assert.equal(response.statusCode, 200);
  };

  /** Runs git with no user or system config and no prompts, as a child process. */
  const git = async (args: string[], config: string[], env: Record<string, string> = {}) => {
    try {
      const { stdout, stderr } = await run("git", [...config.flatMap((c) => ["-c", c]), ...args], {
        cwd: home,
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          HOME: home,
          GIT_CONFIG_NOSYSTEM: "1",
          GIT_CONFIG_GLOBAL: devNull,
          GIT_TERMINAL_PROMPT: "0",
          ...env,
        },
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  };

  /** The helper verb in this process, with git's input on stdin. */
  const helper = async (
    argv: string[],
    input: string,
    agentToken: string,
  ): Promise<{ code: number; stdout: string; stderr: string }> => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const out: string[] = [];
    const err: string[] = [];
    stdout.on("data", (d) => out.push(String(d)));
    stderr.on("data", (d) => err.push(String(d)));
    const code = await main(["git-credential", ...argv], {
      stdout,
      stderr,
      stdin: Readable.from([input]),
      env: { LATCHKEY_METADATA_URL: metadataUrl, LATCHKEY_AGENT_TOKEN: agentToken },
      cwd: home,
      isTTY: false,
      stopSignal: new Promise(() => {}),
    });
    return { code, stdout: out.join(""), stderr: err.join("") };
  };

  const ask = (host: string, protocol = "http") => `protocol=${protocol}\nhost=${host}\n\n`;

  test("real git fetches with the helper during the session, and fails once it ended", async () => {
    const session = await open("git-e2e", "code");
    const [token = ""] = session.tokens;
    const config = [
      "credential.helper=",
      `credential.helper=!"${process.execPath}" "${latchkeyBin}" git-credential`,
    ];
    const env = { LATCHKEY_METADATA_URL: metadataUrl, LATCHKEY_AGENT_TOKEN: session.agentToken };
    const url = `${emulator.baseUrl}/acme/web.git`;

    const during = await git(["ls-remote", url], config, env);
    assert.equal(during.code, 0, during.stderr);
    assert.match(during.stdout, /^[0-9a-f]{40}\tHEAD\n[0-9a-f]{40}\trefs\/heads\/main\n$/);
    assert.equal(during.stderr.includes(token), false);
    const withoutHelper = await git(["ls-remote", url], ["credential.helper="], env);
    assert.notEqual(withoutHelper.code, 0, "the repository is private: git needed the helper");

    await end("git-e2e");
    const afterwards = await git(["ls-remote", url], config, env);
    assert.notEqual(afterwards.code, 0);
    assert.match(afterwards.stderr, /UNAUTHENTICATED/);
    assert.equal(afterwards.stderr.includes(token), false);
    // The token itself is dead at GitHub, not only unavailable from the broker.
    assert.equal(emulator.tokenState(token), "revoked");
    const store = join(home, "old-token");
    await writeFile(store, `http://x-access-token:${token}@${emulator.host}\n`, { mode: 0o600 });
    const replayed = await git(
      ["ls-remote", url],
      ["credential.helper=", `credential.helper=store --file=${store}`],
    );
    assert.notEqual(replayed.code, 0);
    assert.match(replayed.stderr, /Invalid username or token/);
  });

  test("get answers x-access-token, the token and its expiry for the grant's git host", async () => {
    const session = await open("git-get", "code");
    const answer = await helper(
      ["get"],
      `protocol=http\nhost=${emulator.host.toUpperCase()}\npath=acme/web.git\nwwwauth[]=Basic realm="GitHub"\n\n`,
      session.agentToken,
    );
    assert.equal(answer.code, 0, answer.stderr);
    assert.equal(
      answer.stdout,
      `username=x-access-token\npassword=${session.tokens[0]}\npassword_expiry_utc=${Date.parse(session.expiresAt[0] ?? "") / 1000}\n\n`,
    );
    assert.equal(answer.stderr, "");

    // git may send only a url; input may end without a blank line.
    const fromUrl = await helper(["get"], `url=http://${emulator.host}/acme/web.git`, session.agentToken);
    assert.match(fromUrl.stdout, /^username=x-access-token\npassword=/);
  });

  test("get answers nothing for another host, another protocol, or an ambiguous host", async () => {
    const single = await open("git-nothing", "code");
    for (const input of [ask("github.com", "https"), ask(emulator.host, "cert"), ask(emulator.host, "ssh")]) {
      const answer = await helper(["get"], input, single.agentToken);
      assert.deepEqual(answer, { code: 0, stdout: "", stderr: "" }, input);
    }

    const two = await open("git-two", "two-repos");
    const ambiguous = await helper(["get"], ask(emulator.host), two.agentToken);
    assert.deepEqual(ambiguous, {
      code: 0,
      stdout: "",
      stderr: `latchkey git-credential: several GitHub grants serve ${emulator.host} (web, api); pick one with --grant\n`,
    });
    const picked = await helper(["get", "--grant", "api"], ask(emulator.host), two.agentToken);
    assert.equal(picked.code, 0);
    assert.match(picked.stdout, new RegExp(`^username=x-access-token\npassword=${two.tokens[1]}\n`));
  });

  test("--grant never sends a token to a host its grant does not serve", async () => {
    const session = await open("git-elsewhere", "elsewhere");
    const wrongHost = await helper(["get", "--grant", "enterprise"], ask(emulator.host), session.agentToken);
    assert.deepEqual(wrongHost, {
      code: 0,
      stdout: "",
      stderr: `latchkey git-credential: grant enterprise serves git.enterprise.invalid, not ${emulator.host}; not answering\n`,
    });
    const right = await helper(
      ["get", "--grant", "enterprise"],
      ask("git.enterprise.invalid", "https"),
      session.agentToken,
    );
    assert.match(right.stdout, /^username=x-access-token\n/);
    const unknown = await helper(["get", "--grant", "nope"], ask(emulator.host), session.agentToken);
    assert.deepEqual(unknown, {
      code: 1,
      stdout: "",
      stderr: 'latchkey git-credential: this session has no GitHub grant named "nope"\n',
    });
  });

  test("store, erase and unknown operations read their input and do nothing", async () => {
    const session = await open("git-store", "code");
    const input = `protocol=http\nhost=${emulator.host}\nusername=x-access-token\npassword=${session.tokens[0]}\n\n`;
    for (const operation of ["store", "erase", "capability"]) {
      assert.deepEqual(await helper([operation], input, session.agentToken), {
        code: 0,
        stdout: "",
        stderr: "",
      });
    }
    const usage = await helper([], "", session.agentToken);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /git-credential takes exactly one of get, store, erase/);
  });

  test("failures go to stderr without secrets", async () => {
    const session = await open("git-fail", "code");
    await end("git-fail");
    const ended = await helper(["get"], ask(emulator.host), session.agentToken);
    assert.equal(ended.code, 1);
    assert.equal(ended.stdout, "");
    assert.match(ended.stderr, /^latchkey git-credential: UNAUTHENTICATED: /);
    for (const secret of [...tokens, session.agentToken]) assert.equal(ended.stderr.includes(secret), false);
    const logs = broker.logs.join("");
    assert.ok(tokens.length >= 7);
    for (const token of tokens) assert.equal(logs.includes(token), false, "a token leaked into the logs");
  });
});
