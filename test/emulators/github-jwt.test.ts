// The app-JWT rules GitHub applies, one row per rule, with GitHub's exact status and message.
// JWTs are built here with jose, from the app's own key or from keys generated in the test.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { generateKeyPair } from "jose";
import { type GithubEmulator, startGithubEmulator } from "./github/index.js";
import { appAuth, manualClock, schemaMismatches, signAppJwt } from "./github/test-support.js";

const docs = "https://docs.github.com/rest";
const undecodable = "A JSON web token could not be decoded";
const iatInvalid =
  "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued";
const expInvalid =
  "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires";
const expTooFar = "'Expiration time' claim ('exp') is too far in the future";
const issInvalid = "'Issuer' claim ('iss') must be an Integer";

describe("GitHub emulator: app JWT rules", () => {
  const clock = manualClock();
  const now = () => Math.floor(clock.now() / 1000);
  let emulator: GithubEmulator;
  let pem: string;
  let clientId: string;

  before(async () => {
    emulator = await startGithubEmulator({
      now: clock.now,
      apps: [
        {
          id: 3301,
          slug: "jwt-app",
          installations: [
            {
              id: 31,
              account: { login: "acme", type: "Organization" },
              repositories: ["web"],
              permissions: { contents: "read" },
            },
          ],
        },
      ],
    });
    pem = emulator.app(3301).privateKeyPem;
    clientId = emulator.app(3301).clientId;
  });
  after(() => emulator.close());

  const getApp = async (authorization: string | undefined) => {
    const response = await fetch(`${emulator.baseUrl}/app`, {
      headers: authorization === undefined ? {} : { authorization },
    });
    const body = (await response.json()) as {
      message?: string;
      id?: number;
      documentation_url?: string;
      status?: string;
    };
    return { status: response.status, body };
  };
  const claims = (overrides: Record<string, unknown> = {}) => ({
    iat: now() - 30,
    exp: now() + 570,
    iss: 3301,
    ...overrides,
  });

  const accepted: [string, () => Promise<string>][] = [
    ["a numeric iss", async () => `Bearer ${await signAppJwt(pem, claims())}`],
    ["a numeric-string iss", async () => `Bearer ${await signAppJwt(pem, claims({ iss: "3301" }))}`],
    ["the client id as iss", async () => `Bearer ${await signAppJwt(pem, claims({ iss: clientId }))}`],
    ["the lower-case bearer scheme", async () => `bearer ${await signAppJwt(pem, claims())}`],
    [
      "iat a few seconds ahead (clock skew)",
      async () => `Bearer ${await signAppJwt(pem, claims({ iat: now() + 5 }))}`,
    ],
    [
      "exp exactly ten minutes ahead",
      async () => `Bearer ${await signAppJwt(pem, claims({ iat: now(), exp: now() + 600 }))}`,
    ],
  ];
  for (const [name, authorization] of accepted) {
    test(`accepts ${name}`, async () => {
      const { status, body } = await getApp(await authorization());
      assert.equal(status, 200);
      assert.equal(body.id, 3301);
    });
  }

  const rejected: [string, () => Promise<string | undefined>, number, string][] = [
    ["no Authorization header", async () => undefined, 401, undecodable],
    ["a string that is not a JWT", async () => "Bearer not.a-jwt", 401, undecodable],
    ["the token scheme", async () => `token ${await signAppJwt(pem, claims())}`, 401, undecodable],
    [
      "a signature from a key generated in the test",
      async () => `Bearer ${await signAppJwt((await generateKeyPair("RS256")).privateKey, claims())}`,
      401,
      undecodable,
    ],
    [
      "a payload changed after signing",
      async () => {
        const [header, , signature] = (await signAppJwt(pem, claims())).split(".");
        const forged = Buffer.from(JSON.stringify(claims({ iss: 3301, exp: now() + 300 }))).toString(
          "base64url",
        );
        return `Bearer ${header}.${forged}.${signature}`;
      },
      401,
      undecodable,
    ],
    [
      "HS256 instead of RS256",
      async () => {
        const encode = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
        const input = `${encode({ alg: "HS256", typ: "JWT" })}.${encode(claims())}`;
        return `Bearer ${input}.${createHmac("sha256", pem).update(input).digest("base64url")}`;
      },
      401,
      undecodable,
    ],
    [
      "iat a minute in the future",
      async () => `Bearer ${await signAppJwt(pem, claims({ iat: now() + 60 }))}`,
      401,
      iatInvalid,
    ],
    [
      "a fractional iat",
      async () => `Bearer ${await signAppJwt(pem, claims({ iat: now() - 0.5 }))}`,
      401,
      iatInvalid,
    ],
    [
      "iat as a string",
      async () => `Bearer ${await signAppJwt(pem, claims({ iat: String(now()) }))}`,
      401,
      iatInvalid,
    ],
    ["no iat", async () => `Bearer ${await signAppJwt(pem, claims({ iat: undefined }))}`, 401, iatInvalid],
    [
      "exp more than ten minutes ahead",
      async () => `Bearer ${await signAppJwt(pem, claims({ exp: now() + 601 }))}`,
      401,
      expTooFar,
    ],
    [
      "a fractional exp",
      async () => `Bearer ${await signAppJwt(pem, claims({ exp: now() + 60.5 }))}`,
      401,
      expInvalid,
    ],
    [
      "an expired JWT",
      async () => `Bearer ${await signAppJwt(pem, claims({ iat: now() - 700, exp: now() - 1 }))}`,
      401,
      expInvalid,
    ],
    [
      "exp equal to now",
      async () => `Bearer ${await signAppJwt(pem, claims({ exp: now() }))}`,
      401,
      expInvalid,
    ],
    ["no exp", async () => `Bearer ${await signAppJwt(pem, claims({ exp: undefined }))}`, 401, expInvalid],
    ["no iss", async () => `Bearer ${await signAppJwt(pem, claims({ iss: undefined }))}`, 401, issInvalid],
    [
      "a non-numeric iss",
      async () => `Bearer ${await signAppJwt(pem, claims({ iss: "3301!" }))}`,
      401,
      issInvalid,
    ],
    [
      "a fractional iss",
      async () => `Bearer ${await signAppJwt(pem, claims({ iss: 3301.5 }))}`,
      401,
      issInvalid,
    ],
    [
      "an unknown app id",
      async () => `Bearer ${await signAppJwt(pem, claims({ iss: 9999 }))}`,
      404,
      "Integration not found",
    ],
    [
      "an unknown client id",
      async () => `Bearer ${await signAppJwt(pem, claims({ iss: "Iv23liUnknownClient1" }))}`,
      404,
      "Integration not found",
    ],
  ];
  for (const [name, authorization, status, message] of rejected) {
    test(`rejects ${name}: ${status} ${message}`, async () => {
      const answer = await getApp(await authorization());
      assert.deepEqual(answer, {
        status,
        body: { message, documentation_url: docs, status: String(status) },
      });
    });
  }

  test("an installation token is not an app JWT", async () => {
    const { token } = await appAuth(emulator, 3301)({ type: "installation", installationId: 31 });
    assert.deepEqual(await getApp(`Bearer ${token}`), {
      status: 401,
      body: { message: undecodable, documentation_url: docs, status: "401" },
    });
  });

  test("JWT times are judged by the emulator's clock, as auth-app meets them", async () => {
    clock.advance(10 * 60 * 1000);
    try {
      const error = await appAuth(
        emulator,
        3301,
      )({ type: "installation", installationId: 31 }).then(
        () => assert.fail("a JWT from ten minutes ago must be expired"),
        (e: { status: number; message: string }) => e,
      );
      assert.equal(error.status, 401);
      assert.equal(error.message, `${expInvalid} - ${docs}`);
    } finally {
      clock.advance(-10 * 60 * 1000);
    }
  });

  test("every body it answered matches GitHub's published schema", () => {
    const { checked, mismatches } = schemaMismatches(emulator);
    assert.deepEqual(mismatches, []);
    assert.equal(checked, accepted.length + rejected.length + 3);
  });
});
