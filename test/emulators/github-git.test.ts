// Real git against the emulator's smart-HTTP endpoint, authenticating as agents will: username
// x-access-token, the installation token as password, supplied by a credential helper.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { devNull, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { createGitRepositories } from "./github/git.js";
import { type GithubEmulator, startGithubEmulator } from "./github/index.js";
import { appAuth, manualClock, schemaMismatches } from "./github/test-support.js";

const run = promisify(execFile);

describe("GitHub emulator: git over smart HTTP", () => {
  const clock = manualClock();
  let emulator: GithubEmulator;
  let home: string;

  before(async () => {
    home = await mkdtemp(join(tmpdir(), "latchkey-git-client-"));
    emulator = await startGithubEmulator({
      now: clock.now,
      apps: [
        {
          id: 5501,
          slug: "git-app",
          installations: [
            {
              id: 55,
              account: { login: "acme", type: "Organization" },
              repositories: ["web", "api", { name: "docs", private: false }],
              permissions: { contents: "read", metadata: "read" },
            },
          ],
        },
      ],
    });
  });
  after(async () => {
    await emulator.close();
    await rm(home, { recursive: true, force: true });
  });

  const mint = async (repositoryNames: string[]) =>
    (await appAuth(emulator, 5501)({ type: "installation", installationId: 55, repositoryNames })).token;

  /** Runs git with no user or system config, no prompts, and the given extra config. */
  const git = async (args: string[], config: string[] = [], env: Record<string, string> = {}) => {
    try {
      const { stdout } = await run("git", [...config.flatMap((c) => ["-c", c]), ...args], {
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
      return { code: 0, stdout, stderr: "" };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  };

  /** git's credential-store format, one file per token, as the broker's sink writes it. */
  const storeWith = async (token: string) => {
    const file = join(home, `credentials-${emulator.issuedTokens.length}`);
    await writeFile(file, `http://x-access-token:${token}@${emulator.host}\n`, { mode: 0o600 });
    return [`credential.helper=store --file=${file}`];
  };

  const url = (repo: string) => `${emulator.baseUrl}/acme/${repo}.git`;

  test("ls-remote succeeds with a live token from a credential store file", async () => {
    const result = await git(["ls-remote", url("web")], await storeWith(await mint(["web"])));
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trim().split("\n");
    assert.equal(lines.length, 2);
    const [sha] = (lines[0] ?? "").split("\t");
    assert.match(sha ?? "", /^[0-9a-f]{40}$/);
    assert.deepEqual(lines, [`${sha}\tHEAD`, `${sha}\trefs/heads/main`]);
  });

  test("a credential helper program answering x-access-token works too", async () => {
    const token = await mint(["api"]);
    const helper =
      "credential.helper=!f() { echo username=x-access-token; echo password=$LATCHKEY_TEST_TOKEN; }; f";
    const result = await git(["ls-remote", "--heads", url("api")], ["credential.helper=", helper], {
      LATCHKEY_TEST_TOKEN: token,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^[0-9a-f]{40}\trefs\/heads\/main\n$/);
  });

  test("clone fetches the one commit on main with the fixed author", async () => {
    const target = join(home, "web-clone");
    const config = await storeWith(await mint(["web"]));
    const clone = await git(["clone", "--quiet", url("web"), target], config);
    assert.equal(clone.code, 0, clone.stderr);
    const log = await git(["-C", target, "log", "--format=%an <%ae>|%s|%at"]);
    assert.equal(log.stdout, "Latchkey Emulator <emulator@latchkey.invalid>|Initial commit|1767225600\n");
    assert.equal(
      await readFile(join(target, "README.md"), "utf8"),
      "# web\n\nServed by Latchkey's GitHub emulator.\n",
    );
  });

  test("a revoked token fails", async () => {
    const token = await mint(["web"]);
    const config = await storeWith(token);
    assert.equal((await git(["ls-remote", url("web")], config)).code, 0);
    const revoke = await fetch(`${emulator.baseUrl}/installation/token`, {
      method: "DELETE",
      headers: { authorization: `token ${token}` },
    });
    assert.equal(revoke.status, 204);
    const result = await git(["ls-remote", url("web")], config);
    assert.equal(result.code, 128);
    assert.match(
      result.stderr,
      /remote: Invalid username or token\. Password authentication is not supported for Git operations\./,
    );
    assert.match(result.stderr, /fatal: Authentication failed for/);
  });

  test("an expired token fails", async () => {
    const config = await storeWith(await mint(["web"]));
    clock.advance(3_600_000);
    try {
      const result = await git(["ls-remote", url("web")], config);
      assert.equal(result.code, 128);
      assert.match(result.stderr, /fatal: Authentication failed for/);
    } finally {
      clock.advance(-3_600_000);
    }
  });

  test("a repository outside the token's list is not found", async () => {
    const result = await git(["ls-remote", url("api")], await storeWith(await mint(["web"])));
    assert.equal(result.code, 128);
    assert.match(result.stderr, /remote: Repository not found\./);
    assert.match(result.stderr, /fatal: repository '.*\/acme\/api\.git\/' not found/);
  });

  test("without credentials git is asked for them; a public repository needs none", async () => {
    const privateRepo = await git(["ls-remote", url("web")]);
    assert.equal(privateRepo.code, 128);
    assert.match(privateRepo.stderr, /could not read Username/);
    const publicRepo = await git(["ls-remote", "--heads", url("docs")]);
    assert.equal(publicRepo.code, 0, publicRepo.stderr);
    assert.match(publicRepo.stdout, /\trefs\/heads\/main\n$/);
  });

  test("the git routes record their outcomes and can be made to fail", async () => {
    emulator.failNext("GET /:owner/:repo.git/info/refs", 503);
    const result = await git(["ls-remote", url("docs")]);
    assert.equal(result.code, 128);
    assert.match(result.stderr, /503/);
    assert.deepEqual(emulator.requests.at(-1), {
      method: "GET",
      route: "GET /:owner/:repo.git/info/refs",
      status: 503,
    });
  });

  test("the same repository gets the same commit in every emulator, and close removes the temp dir", async () => {
    const repositories = await createGitRepositories();
    const owner = { login: "acme", type: "Organization" as const, id: 1 };
    await repositories.ensure({ id: 1, name: "web", owner, private: true });
    const local = await git(["--git-dir", join(repositories.root, "acme", "web.git"), "rev-parse", "main"]);
    const remote = await git(["ls-remote", url("web")], await storeWith(await mint(["web"])));
    assert.equal(remote.stdout.split("\t")[0], local.stdout.trim());
    assert.ok(existsSync(repositories.root));
    await repositories.close();
    assert.equal(existsSync(repositories.root), false);
  });

  test("every JSON body it answered matches GitHub's published schema", () => {
    const { checked, mismatches } = schemaMismatches(emulator);
    assert.deepEqual(mismatches, []);
    assert.equal(checked, 8);
  });
});
