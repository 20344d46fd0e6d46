// AssumeRoleWithWebIdentity against a tiny OIDC issuer served by this test (discovery document and
// JWKS over node:http, keys generated with jose), through the real SDK, which sends it unsigned.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { GetRoleCommand, PutRolePolicyCommand } from "@aws-sdk/client-iam";
import { AssumeRoleWithWebIdentityCommand, GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from "jose";
import { type AwsEmulator, startAwsEmulator } from "./aws/index.js";
import {
  type ExpectedAwsError,
  expectAwsError,
  iamClient,
  sessionCredentials,
  stsClient,
} from "./aws/testing.js";

const ACCOUNT = "123456789012";
const AUDIENCE = "sts.amazonaws.com";
const arn = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;

type Key = Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];

interface Issuer {
  readonly url: string;
  /** Published in the JWKS. */
  keys: JWK[];
  /** Fields of the discovery document beyond `issuer` and `jwks_uri`. */
  discoveryExtras: Record<string, unknown>;
  readonly served: string[];
  close(): Promise<void>;
}

async function startIssuer(path: string): Promise<Issuer> {
  let server: Server | undefined;
  const issuer: Issuer = {
    url: "",
    keys: [],
    discoveryExtras: {},
    served: [],
    close: () => new Promise((resolve) => server?.close(() => resolve())),
  };
  server = createServer((req, res) => {
    issuer.served.push(req.url ?? "");
    const send = (body: unknown) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.url === `${path}/.well-known/openid-configuration`) {
      send({ issuer: issuer.url, jwks_uri: `${issuer.url}/jwks`, ...issuer.discoveryExtras });
    } else if (req.url === `${path}/jwks`) {
      send({ keys: issuer.keys });
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(issuer, { url: `http://127.0.0.1:${port}${path}` });
}

const COMPLETE_DISCOVERY = {
  response_types_supported: ["id_token"],
  subject_types_supported: ["public"],
  id_token_signing_alg_values_supported: ["RS256", "ES256"],
};

describe("AssumeRoleWithWebIdentity", () => {
  let issuer: Issuer;
  let aws: AwsEmulator;
  let anonymous: STSClient;
  const signers = new Map<string, { key: Key; kid: string }>();
  const clock = Date.now();

  async function addKey(alg: string, kid: string, publish = true) {
    const pair = await generateKeyPair(alg, alg === "EdDSA" ? { crv: "Ed25519" } : {});
    if (publish) issuer.keys.push({ ...(await exportJWK(pair.publicKey)), kid, alg, use: "sig" });
    signers.set(kid, { key: pair.privateKey, kid });
  }

  async function token(kid: string, alg: string, claims: JWTPayload = {}, expiresAt: string | number = "5m") {
    const signer = signers.get(kid);
    assert.ok(signer);
    return new SignJWT({ sub: "repo:acme/web:ref:main", ...claims })
      .setProtectedHeader({ alg, kid })
      .setIssuer(issuer.url)
      .setAudience(claims.aud ?? AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(expiresAt)
      .sign(signer.key);
  }

  const exchange = (webIdentityToken: string, role = "web", sessionName = "web-session") =>
    anonymous.send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: arn(role),
        RoleSessionName: sessionName,
        WebIdentityToken: webIdentityToken,
      }),
    );

  const invalidToken = (message: string): ExpectedAwsError => ({
    name: "InvalidIdentityTokenException",
    status: 400,
    message,
  });
  const cannotRetrieve = invalidToken(
    "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements",
  );

  before(async () => {
    issuer = await startIssuer("/tenant");
    issuer.discoveryExtras = COMPLETE_DISCOVERY;
    await addKey("ES256", "ec-1");
    await addKey("RS256", "rsa-1");
    await addKey("EdDSA", "ed-1");
    await addKey("ES256", "unpublished", false);
    aws = await startAwsEmulator({
      accountId: ACCOUNT,
      now: () => clock,
      oidcProviders: [{ url: issuer.url, audiences: [AUDIENCE, "other-client"] }],
      roles: [
        {
          name: "web",
          trust: { webIdentity: { provider: issuer.url, audience: AUDIENCE, subjectLike: "repo:acme/*" } },
        },
        {
          name: "web-untagged",
          trust: {
            tagSession: false,
            webIdentity: { provider: `arn:aws:iam::${ACCOUNT}:oidc-provider/${issuer.url.slice(7)}` },
          },
        },
        { name: "aws-only" },
      ],
    });
    anonymous = new STSClient({ endpoint: aws.endpoint, region: aws.region, maxAttempts: 1 });
  });
  after(async () => {
    await aws.close();
    await issuer.close();
  });

  test("an ES256 token with source identity and session tags", async () => {
    const out = await exchange(
      await token("ec-1", "ES256", {
        "https://aws.amazon.com/source_identity": "task-web",
        "https://aws.amazon.com/tags": { principal_tags: { team: ["blue"] }, transitive_tag_keys: ["team"] },
      }),
    );
    assert.equal(out.SubjectFromWebIdentityToken, "repo:acme/web:ref:main");
    assert.equal(out.Audience, AUDIENCE);
    assert.equal(out.Provider, issuer.url);
    assert.equal(out.SourceIdentity, "task-web");
    assert.equal(out.AssumedRoleUser?.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/web/web-session`);
    assert.match(out.AssumedRoleUser?.AssumedRoleId ?? "", /^AROA[A-Z2-7]{17}:web-session$/);
    const credentials = sessionCredentials(out);
    const me = await stsClient(aws, credentials).send(new GetCallerIdentityCommand({}));
    assert.equal(me.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/web/web-session`);
    assert.ok(issuer.served.includes("/tenant/.well-known/openid-configuration"));
    assert.ok(issuer.served.includes("/tenant/jwks"));
    assert.deepEqual(
      aws.requests
        .filter((r) => r.action === "AssumeRoleWithWebIdentity")
        .map((r) => [r.status, r.accessKeyId]),
      [[200, undefined]],
    );

    // The token's tags are session tags: a Deny on them reaches this session.
    await iamClient(aws, aws.brokerCredentials).send(
      new PutRolePolicyCommand({
        RoleName: "web",
        PolicyName: "deny-blue",
        PolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Deny",
              Action: "*",
              Resource: "*",
              Condition: { StringEquals: { "aws:PrincipalTag/team": "blue" } },
            },
          ],
        }),
      }),
    );
    await expectAwsError(iamClient(aws, credentials).send(new GetRoleCommand({ RoleName: "web" })), {
      name: "AccessDenied",
      status: 403,
      message: `User: arn:aws:sts::${ACCOUNT}:assumed-role/web/web-session is not authorized to perform: iam:GetRole on resource: role web with an explicit deny in an identity-based policy`,
    });
  });

  test("an RS256 token for another of the provider's audiences", async () => {
    const signed = await new SignJWT({ sub: "repo:acme/api" })
      .setProtectedHeader({ alg: "RS256", kid: "rsa-1" })
      .setIssuer(issuer.url)
      .setAudience("other-client")
      .setExpirationTime("5m")
      .sign((signers.get("rsa-1") as { key: Key }).key);
    const out = await exchange(signed, "web-untagged", "rsa");
    assert.equal(out.Audience, "other-client");
    assert.equal(out.SubjectFromWebIdentityToken, "repo:acme/api");
    assert.equal(out.SourceIdentity, undefined);
  });

  test("a token for an audience the provider does not list", async () => {
    await expectAwsError(
      exchange(await token("ec-1", "ES256", { aud: "someone-else" })),
      invalidToken("Incorrect token audience"),
    );
  });

  test("an expired token", async () => {
    const expiredAt = Math.floor(clock / 1000) - 10;
    await expectAwsError(exchange(await token("ec-1", "ES256", {}, expiredAt)), {
      name: "ExpiredTokenException",
      status: 400,
      message: `Token expired: current date/time ${Math.floor(clock / 1000)} must be before the expiration date/time ${expiredAt}`,
    });
  });

  test("an EdDSA token, an algorithm STS does not accept", async () => {
    await expectAwsError(
      exchange(await token("ed-1", "EdDSA")),
      invalidToken("Unsupported token signing algorithm EdDSA"),
    );
  });

  test("a signature from a key the issuer does not publish under that kid", async () => {
    const forged = await new SignJWT({ sub: "repo:acme/web" })
      .setProtectedHeader({ alg: "ES256", kid: "ec-1" })
      .setIssuer(issuer.url)
      .setAudience(AUDIENCE)
      .setExpirationTime("5m")
      .sign((signers.get("unpublished") as { key: Key }).key);
    await expectAwsError(exchange(forged), invalidToken("The token signature is invalid"));
    await expectAwsError(exchange(await token("unpublished", "ES256")), cannotRetrieve);
  });

  test("a discovery document without the fields STS requires", async () => {
    issuer.discoveryExtras = { response_types_supported: ["id_token"] };
    try {
      await expectAwsError(exchange(await token("ec-1", "ES256")), cannotRetrieve);
    } finally {
      issuer.discoveryExtras = COMPLETE_DISCOVERY;
    }
  });

  test("an issuer that is not a registered provider, and a token that is not a JWT", async () => {
    const stranger = await new SignJWT({ sub: "x" })
      .setProtectedHeader({ alg: "ES256", kid: "ec-1" })
      .setIssuer("https://elsewhere.example")
      .setAudience(AUDIENCE)
      .setExpirationTime("5m")
      .sign((signers.get("ec-1") as { key: Key }).key);
    await expectAwsError(
      exchange(stranger),
      invalidToken("No OpenIDConnect provider found in your account for https://elsewhere.example"),
    );
    await expectAwsError(exchange("not-a-jwt"), invalidToken("The ID token provided is not a valid JWT"));
  });

  test("the role's trust decides: subject condition, provider, tags", async () => {
    const notTrusted = (action: string): ExpectedAwsError => ({
      name: "AccessDenied",
      status: 403,
      message: `Not authorized to perform ${action}`,
    });
    await expectAwsError(
      exchange(await token("ec-1", "ES256", { sub: "repo:evil/web" })),
      notTrusted("sts:AssumeRoleWithWebIdentity"),
    );
    await expectAwsError(
      exchange(await token("ec-1", "ES256"), "aws-only"),
      notTrusted("sts:AssumeRoleWithWebIdentity"),
    );
    await expectAwsError(
      exchange(
        await token("ec-1", "ES256", {
          "https://aws.amazon.com/tags": { principal_tags: { team: ["red"] } },
        }),
        "web-untagged",
      ),
      notTrusted("sts:TagSession"),
    );
    await expectAwsError(
      exchange(await token("ec-1", "ES256"), "ghost"),
      notTrusted("sts:AssumeRoleWithWebIdentity"),
    );
  });

  test("claims are held to the constraints of the parameters they stand for", async () => {
    await expectAwsError(
      exchange(await token("ec-1", "ES256", { "https://aws.amazon.com/source_identity": "has space" })),
      {
        name: "ValidationError",
        status: 400,
        message:
          "1 validation error detected: Value 'has space' at 'sourceIdentity' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
      },
    );
  });

  test("the request itself is validated first", async () => {
    await expectAwsError(exchange("abc", "web", "x"), {
      name: "ValidationError",
      status: 400,
      message:
        "2 validation errors detected: Value 'x' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2; Value 'abc' at 'webIdentityToken' failed to satisfy constraint: Member must have length greater than or equal to 4",
    });
  });
});
