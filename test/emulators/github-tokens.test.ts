// Installation token formats: classic `ghs_` tokens with their CRC32 checksum, the stateless
// `ghs_<appId>_<JWT>` form, the per-request format header, uniqueness and independent state.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { crc32 } from "node:zlib";
import { request } from "@octokit/request";
import { type GithubEmulator, startGithubEmulator } from "./github/index.js";
import { appAuth, manualClock, schemaMismatches } from "./github/test-support.js";

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** The checksum scanners verify (shared/reference/secret-formats.md §2), written independently here. */
function classicChecksumValid(token: string): boolean {
  const body = token.slice(4, 34);
  let value = crc32(body);
  let encoded = "";
  while (value > 0) {
    encoded = base62[value % 62] + encoded;
    value = Math.floor(value / 62);
  }
  return token.slice(34) === encoded.padStart(6, "0");
}

// GitHub's published matcher for both formats (changelog 2026-05-15).
const githubMatcher = /^ghs_[A-Za-z0-9._]{36,}$/;

describe("GitHub emulator: installation token formats", () => {
  const clock = manualClock();
  let emulator: GithubEmulator;

  before(async () => {
    const installation = (id: number, login: string) => ({
      id,
      account: { login, type: "Organization" as const },
      repositories: [
        { name: "web", id: id * 10 + 1 },
        { name: "api", id: id * 10 + 2 },
      ],
      permissions: { contents: "write" as const, metadata: "read" as const },
    });
    emulator = await startGithubEmulator({
      now: clock.now,
      apps: [
        { id: 2201, slug: "classic-app", installations: [installation(21, "acme")] },
        {
          id: 2202,
          slug: "stateless-app",
          tokenFormat: "stateless",
          installations: [installation(22, "globex")],
        },
      ],
    });
  });
  after(() => emulator.close());

  const mint = async (appId: number, installationId: number, header?: string) => {
    const { token: jwt } = await appAuth(emulator, appId)({ type: "app" });
    const { data } = await request("POST /app/installations/{installation_id}/access_tokens", {
      baseUrl: emulator.baseUrl,
      installation_id: installationId,
      repositories: ["web"],
      headers: {
        authorization: `Bearer ${jwt}`,
        ...(header === undefined ? {} : { "x-github-stateless-s2s-token": header }),
      },
    });
    return data.token;
  };

  test("classic tokens are ghs_ + 30 random base62 + a 6-char CRC32 checksum", async () => {
    const token = await mint(2201, 21);
    assert.match(token, /^ghs_[0-9A-Za-z]{36}$/);
    assert.equal(token.length, 40);
    assert.ok(classicChecksumValid(token), "the checksum must verify");
    assert.match(token, githubMatcher);
    // The check can fail: one changed character in the random part breaks it.
    const changed = `${token.slice(0, 10)}${token[10] === "A" ? "B" : "A"}${token.slice(11)}`;
    assert.equal(classicChecksumValid(changed), false);
  });

  test("stateless tokens are ghs_<appId>_ + a JWT with two dots, about 520 chars", async () => {
    const token = await mint(2202, 22);
    assert.match(token, /^ghs_2202_[A-Za-z0-9_]+\.[A-Za-z0-9_]+\.[A-Za-z0-9_]+$/);
    assert.equal(token.split(".").length, 3);
    assert.ok(token.length >= 450 && token.length <= 600, `length ${token.length}`);
    assert.match(token, githubMatcher);
    const [header = "", payload = ""] = token.slice("ghs_2202_".length).split(".");
    assert.deepEqual(JSON.parse(Buffer.from(header, "base64url").toString()), {
      alg: "HS512",
      typ: "JWT",
      kid: "app-2202",
    });
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
    assert.equal(claims.app_id, 2202);
    assert.equal(claims.installation_id, 22);
    assert.deepEqual(claims.repository_ids, [221]);
    assert.equal(claims.exp - claims.iat, 3600);
  });

  test("X-GitHub-Stateless-S2S-Token forces either format; other values are ignored", async () => {
    assert.match(await mint(2201, 21, "enabled"), /^ghs_2201_[^.]+\.[^.]+\.[^.]+$/);
    assert.match(await mint(2202, 22, "disabled"), /^ghs_[0-9A-Za-z]{36}$/);
    assert.match(await mint(2201, 21, "true"), /^ghs_[0-9A-Za-z]{36}$/);
    assert.match(await mint(2202, 22, "1"), /^ghs_2202_/);
    assert.deepEqual(
      emulator.issuedTokens.slice(-4).map((t) => t.format),
      ["stateless", "classic", "classic", "stateless"],
    );
  });

  test("every token is unique, and each is revoked on its own", async () => {
    const auth = appAuth(emulator, 2201);
    const before = emulator.issuedTokens.length;
    const tokens: string[] = [];
    for (let i = 0; i < 150; i++)
      tokens.push((await auth({ type: "installation", installationId: 21 })).token);
    for (let i = 0; i < 30; i++) tokens.push(await mint(2202, 22));
    assert.equal(new Set(tokens).size, 180);
    assert.equal(emulator.issuedTokens.length, before + 180);
    assert.ok(tokens.slice(0, 150).every(classicChecksumValid));

    const [first = "", second = "", stateless = ""] = [tokens[0], tokens[1], tokens[170]];
    for (const token of [first, stateless]) {
      const revoked = await request("DELETE /installation/token", {
        baseUrl: emulator.baseUrl,
        headers: { authorization: `token ${token}` },
      });
      assert.equal(revoked.status, 204);
    }
    assert.deepEqual(
      [first, second, stateless, tokens[171] ?? ""].map((t) => emulator.tokenState(t)),
      ["revoked", "live", "revoked", "live"],
    );
  });

  test("a stateless token reads repositories like a classic one", async () => {
    const token = await mint(2202, 22);
    const read = (repo: string) =>
      fetch(`${emulator.baseUrl}/repos/globex/${repo}`, {
        headers: { authorization: `Bearer ${token}` },
      }).then((r) => r.status);
    assert.deepEqual([await read("web"), await read("api")], [200, 404]);
  });

  test("issuedTokens reports each token's scope and expiry on the emulator's clock", async () => {
    clock.advance(90_000);
    await mint(2201, 21);
    assert.deepEqual(emulator.issuedTokens.at(-1), {
      appId: 2201,
      installationId: 21,
      format: "classic",
      repositories: ["web"],
      permissions: { contents: "write", metadata: "read" },
      expiresAt: new Date(clock.now() + 3_600_000).toISOString().replace(".000Z", "Z"),
    });
  });

  test("every body it answered matches GitHub's published schema", () => {
    const { checked, mismatches } = schemaMismatches(emulator);
    assert.deepEqual(mismatches, []);
    assert.ok(checked >= 190, `only ${checked} bodies were checked`);
  });
});
