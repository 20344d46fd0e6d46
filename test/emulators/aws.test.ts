// The emulator as the real @aws-sdk/client-sts and @aws-sdk/client-iam see it: every success
// document decodes, every error code becomes the SDK's typed exception with the right status and
// a request id, and SigV4 refusals arrive with AWS's codes. A few requests are built by hand to
// see the raw wire (XML, headers, GET query requests, empty lists).
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { deflateRawSync } from "node:zlib";
import {
  DeleteRolePolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  type IAMClient,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
} from "@aws-sdk/client-iam";
import {
  AssumeRoleCommand,
  type AssumeRoleCommandInput,
  GetCallerIdentityCommand,
  STSClient,
} from "@aws-sdk/client-sts";
import { errorCatalog } from "./aws/errors.js";
import { amzDate, newKeyId, newSecretAccessKey } from "./aws/ids.js";
import { type AwsEmulator, startAwsEmulator } from "./aws/index.js";
import { canonicalRequest, type ReceivedRequest, signingKey, stringToSign } from "./aws/sigv4.js";
import {
  expectAwsError,
  iamClient,
  sessionCredentials,
  stsClient,
  type TestCredentials,
} from "./aws/testing.js";

const ACCOUNT = "210987654321";
const ROLE = "artifacts";
const roleArn = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;

interface RawRequest {
  readonly method?: "GET" | "POST";
  readonly service?: string;
  readonly region?: string;
  readonly params: Record<string, string>;
  readonly credentials?: TestCredentials;
  /** Send the session token without listing it in SignedHeaders. */
  readonly unsignedToken?: boolean;
}

// A hand-built request, signed with the emulator's own canonicalisation, only to look at raw
// answers; the verifier itself is proven against AWS's vectors in aws-sigv4.test.ts.
async function raw(aws: AwsEmulator, request: RawRequest): Promise<Response> {
  const method = request.method ?? "POST";
  const encoded = new URLSearchParams(request.params).toString().replace(/\+/g, "%20");
  const body = method === "POST" ? encoded : "";
  const query = method === "GET" ? encoded : "";
  const host = new URL(aws.endpoint).host;
  const headers: Record<string, string> = { host };
  if (method === "POST") headers["content-type"] = "application/x-www-form-urlencoded; charset=utf-8";
  const credentials = request.credentials;
  if (credentials !== undefined) {
    const now = Date.now();
    headers["x-amz-date"] = amzDate(now);
    if (credentials.sessionToken !== undefined) headers["x-amz-security-token"] = credentials.sessionToken;
    const signed = Object.keys(headers)
      .filter((name) => !(request.unsignedToken === true && name === "x-amz-security-token"))
      .sort();
    const view: ReceivedRequest = {
      method,
      path: "/",
      query,
      headers: Object.entries(headers),
      body: Buffer.from(body),
    };
    const region = request.region ?? aws.region;
    const service = request.service ?? "sts";
    const date = amzDate(now).slice(0, 8);
    const auth = {
      accessKeyId: credentials.accessKeyId,
      scopeDate: date,
      region,
      service,
      signedHeaders: signed,
      signature: "",
      requestDate: amzDate(now),
      requestTimeMs: now,
    };
    const key = signingKey(credentials.secretAccessKey, date, region, service);
    const signature = createHmac("sha256", key)
      .update(stringToSign(auth, canonicalRequest(view, signed)))
      .digest("hex");
    headers.authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${date}/${region}/${service}/aws4_request, SignedHeaders=${signed.join(";")}, Signature=${signature}`;
  }
  const { host: _host, ...sent } = headers;
  return fetch(`${aws.endpoint}/${query === "" ? "" : `?${query}`}`, {
    method,
    headers: sent,
    ...(method === "POST" ? { body } : {}),
  });
}

type SignedRequest = { body: unknown; headers: Record<string, string> };

/**
 * Runs `mutate` on the SDK's request after it has been signed (the signer sits in the
 * finalizeRequest step next to the retry middleware; a low-priority entry runs after both).
 */
function tamperAfterSigning(client: STSClient, mutate: (request: SignedRequest) => void) {
  client.middlewareStack.add(
    (next) => async (args) => {
      mutate(args.request as SignedRequest);
      return next(args);
    },
    { step: "finalizeRequest", priority: "low", name: "tamperAfterSigning" },
  );
}

describe("AWS emulator through the real SDKs", () => {
  let aws: AwsEmulator;
  let clock = Date.now();
  let sts: STSClient;
  let iam: IAMClient;

  before(async () => {
    aws = await startAwsEmulator({ accountId: ACCOUNT, now: () => clock, roles: [{ name: ROLE }] });
    sts = stsClient(aws, aws.brokerCredentials);
    iam = iamClient(aws, aws.brokerCredentials);
  });
  after(() => aws.close());

  async function assume(sessionName: string, extra: Partial<AssumeRoleCommandInput> = {}) {
    return sts.send(
      new AssumeRoleCommand({ RoleArn: roleArn(ROLE), RoleSessionName: sessionName, ...extra }),
    );
  }

  describe("success documents", () => {
    test("GetCallerIdentity with the broker key answers the broker user", async () => {
      const out = await sts.send(new GetCallerIdentityCommand({}));
      assert.equal(out.Account, ACCOUNT);
      assert.equal(out.Arn, `arn:aws:iam::${ACCOUNT}:user/latchkey-broker`);
      assert.equal(aws.brokerArn, out.Arn);
      assert.match(out.UserId ?? "", /^AIDA[A-Z2-7]{17}$/);
      assert.equal(out.$metadata.httpStatusCode, 200);
      assert.match(out.$metadata.requestId ?? "", /^[0-9a-f-]{36}$/);
    });

    test("AssumeRole answers credentials, the assumed-role user and the packing figures", async () => {
      const policy = JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: ["s3:GetObject"], Resource: "*" }],
      });
      const out = await assume("latchkey-task-1", {
        DurationSeconds: 900,
        SourceIdentity: "task-1",
        Tags: [{ Key: "latchkey:session", Value: "task-1" }],
        Policy: policy,
      });
      const role = await iam.send(new GetRoleCommand({ RoleName: ROLE }));
      const creds = sessionCredentials(out);
      assert.match(creds.accessKeyId, /^ASIA[A-Z2-7]{16}$/);
      assert.match(creds.secretAccessKey, /^[A-Za-z0-9+/]{40}$/);
      assert.match(creds.sessionToken, /^IQoJb3JpZ2luX2Vj[A-Za-z0-9+/]+$/);
      assert.equal(
        out.Credentials?.Expiration?.toISOString(),
        new Date(Math.floor(clock / 1000) * 1000 + 900_000).toISOString(),
      );
      assert.equal(out.AssumedRoleUser?.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/${ROLE}/latchkey-task-1`);
      assert.equal(out.AssumedRoleUser?.AssumedRoleId, `${role.Role?.RoleId}:latchkey-task-1`);
      assert.equal(out.SourceIdentity, "task-1");
      // The documented heuristic (packing.ts): DEFLATE of the minified policy and of the tag lines,
      // each against 320 bytes; the larger share is reported.
      const share = (text: string) => Math.ceil((deflateRawSync(text, { level: 9 }).length * 100) / 320);
      const expected = Math.max(share(policy), share("latchkey:session=task-1\n"));
      assert.equal(expected, 30);
      assert.equal(out.PackedPolicySize, expected);
      assert.equal(out.SessionTokenUtilization, expected);
      assert.equal(out.SessionTokenSize, creds.sessionToken.length);
    });

    test("GetCallerIdentity with temporary credentials answers the session", async () => {
      const out = await assume("caller-check");
      const session = stsClient(aws, sessionCredentials(out));
      const me = await session.send(new GetCallerIdentityCommand({}));
      assert.equal(me.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/${ROLE}/caller-check`);
      assert.equal(me.UserId, out.AssumedRoleUser?.AssumedRoleId);
      assert.equal(me.Account, ACCOUNT);
    });

    test("MinimumSessionTokenSize pads the session token", async () => {
      const out = await assume("padded", { MinimumSessionTokenSize: 3000 });
      assert.equal(out.Credentials?.SessionToken?.length, 3000);
      assert.equal(out.SessionTokenSize, 3000);
    });

    test("GetRole answers the role with its trust policy URL-encoded", async () => {
      const out = await iam.send(new GetRoleCommand({ RoleName: ROLE }));
      const role = out.Role;
      assert.equal(role?.RoleName, ROLE);
      assert.equal(role?.Arn, roleArn(ROLE));
      assert.equal(role?.Path, "/");
      assert.equal(role?.MaxSessionDuration, 3600);
      assert.match(role?.RoleId ?? "", /^AROA[A-Z2-7]{17}$/);
      assert.ok(role?.CreateDate instanceof Date);
      assert.equal(
        decodeURIComponent(role?.AssumeRolePolicyDocument ?? ""),
        JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/latchkey-broker` },
              Action: ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
            },
          ],
        }),
      );
      assert.match(role?.AssumeRolePolicyDocument ?? "", /^%7B%22Version%22%3A/);
    });

    test("GetRole finds a role whatever the case of its name, as IAM does", async () => {
      const out = await iam.send(new GetRoleCommand({ RoleName: ROLE.toUpperCase() }));
      assert.equal(out.Role?.RoleName, ROLE);
    });

    test("inline policies: put, get (RFC 3986 encoded), list with paging, delete", async () => {
      aws.addRole({ name: "listing" });
      const listing = (extra = {}) =>
        iam.send(new ListRolePoliciesCommand({ RoleName: "listing", ...extra }));
      assert.deepEqual((await listing()).PolicyNames, []);
      const doc = (sid: string) =>
        `{ "Version": "2012-10-17", "Statement": [{ "Sid": "${sid}", "Effect": "Deny", "Action": "s3:*", "Resource": "*" }] }`;
      for (const name of ["b-policy", "a-policy", "c-policy"]) {
        await iam.send(
          new PutRolePolicyCommand({
            RoleName: "listing",
            PolicyName: name,
            PolicyDocument: doc(name.slice(0, 1)),
          }),
        );
      }
      const got = await iam.send(new GetRolePolicyCommand({ RoleName: "listing", PolicyName: "a-policy" }));
      assert.equal(got.RoleName, "listing");
      assert.equal(got.PolicyName, "a-policy");
      assert.equal(
        got.PolicyDocument,
        encodeURIComponent(doc("a")).replace(
          /[!'()*]/g,
          (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
        ),
      );
      assert.equal(decodeURIComponent(got.PolicyDocument ?? ""), doc("a"));
      assert.equal(aws.getRolePolicy("listing", "a-policy"), doc("a"));

      const first = await listing({ MaxItems: 2 });
      assert.deepEqual(first.PolicyNames, ["a-policy", "b-policy"]);
      assert.equal(first.IsTruncated, true);
      const second = await listing({ MaxItems: 2, Marker: first.Marker });
      assert.deepEqual(second.PolicyNames, ["c-policy"]);
      assert.equal(second.IsTruncated, false);
      assert.equal(second.Marker, undefined);

      await iam.send(new DeleteRolePolicyCommand({ RoleName: "listing", PolicyName: "b-policy" }));
      assert.deepEqual((await listing()).PolicyNames, ["a-policy", "c-policy"]);
      assert.equal(aws.getRolePolicy("listing", "b-policy"), undefined);
    });

    test("the request log records service, action, status and key", async () => {
      const before = aws.requests.length;
      await sts.send(new GetCallerIdentityCommand({}));
      await expectAwsError(iam.send(new GetRoleCommand({ RoleName: "nobody" })), {
        name: "NoSuchEntityException",
        status: 404,
        message: "The role with name nobody cannot be found.",
      });
      assert.deepEqual(aws.requests.slice(before), [
        {
          service: "sts",
          action: "GetCallerIdentity",
          status: 200,
          accessKeyId: aws.brokerCredentials.accessKeyId,
        },
        { service: "iam", action: "GetRole", status: 404, accessKeyId: aws.brokerCredentials.accessKeyId },
      ]);
    });
  });

  describe("the raw wire", () => {
    test("a signed GET query request gets the exact XML document and headers", async () => {
      const response = await raw(aws, {
        method: "GET",
        params: { Action: "GetCallerIdentity", Version: "2011-06-15" },
        credentials: aws.brokerCredentials,
      });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-type"), "text/xml");
      assert.equal(response.headers.get("date"), new Date(clock).toUTCString());
      const requestId = response.headers.get("x-amzn-requestid") ?? "";
      assert.match(requestId, /^[0-9a-f-]{36}$/);
      const me = await sts.send(new GetCallerIdentityCommand({}));
      assert.equal(
        await response.text(),
        `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><UserId>${me.UserId}</UserId><Account>${ACCOUNT}</Account><Arn>${me.Arn}</Arn></GetCallerIdentityResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></GetCallerIdentityResponse>\n`,
      );
    });

    test("an unsigned request gets AWS's ErrorResponse document", async () => {
      const response = await raw(aws, { params: { Action: "GetCallerIdentity", Version: "2011-06-15" } });
      assert.equal(response.status, 403);
      const requestId = response.headers.get("x-amzn-requestid");
      assert.equal(
        await response.text(),
        `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>MissingAuthenticationToken</Code><Message>Request is missing Authentication Token</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>\n`,
      );
    });

    test("IAM errors use IAM's namespace", async () => {
      const response = await raw(aws, {
        service: "iam",
        params: { Action: "GetRole", Version: "2010-05-08", RoleName: "ghost" },
        credentials: aws.brokerCredentials,
      });
      assert.equal(response.status, 404);
      assert.match(
        await response.text(),
        /^<ErrorResponse xmlns="https:\/\/iam\.amazonaws\.com\/doc\/2010-05-08\/"><Error><Type>Sender<\/Type><Code>NoSuchEntity<\/Code><Message>The role with name ghost cannot be found\.<\/Message><\/Error>/,
      );
    });

    test("empty lists sent as `Name=` are empty lists", async () => {
      const response = await raw(aws, {
        params: {
          Action: "AssumeRole",
          Version: "2011-06-15",
          RoleArn: roleArn(ROLE),
          RoleSessionName: "empty-lists",
          PolicyArns: "",
          Tags: "",
          TransitiveTagKeys: "",
        },
        credentials: aws.brokerCredentials,
      });
      const text = await response.text();
      assert.equal(response.status, 200, text);
      assert.match(text, /<PackedPolicySize>0<\/PackedPolicySize>/);
      assert.match(text, /<Arn>arn:aws:sts::210987654321:assumed-role\/artifacts\/empty-lists<\/Arn>/);
    });

    const routing: Array<[string, Record<string, string>, number, string, string]> = [
      [
        "no Action",
        { Version: "2011-06-15" },
        400,
        "MissingAction",
        "The request is missing an action or a required parameter.",
      ],
      [
        "an unknown Action",
        { Action: "GetSessionToken", Version: "2011-06-15" },
        400,
        "InvalidAction",
        "Could not find operation GetSessionToken for version 2011-06-15",
      ],
      [
        "another service's Version",
        { Action: "GetCallerIdentity", Version: "2010-05-08" },
        400,
        "InvalidAction",
        "Could not find operation GetCallerIdentity for version 2010-05-08",
      ],
      [
        "no Version",
        { Action: "GetCallerIdentity" },
        400,
        "MissingParameter",
        "The request must contain the parameter Version",
      ],
    ];
    for (const [name, params, status, code, message] of routing) {
      test(`routing: ${name}`, async () => {
        const response = await raw(aws, { params, credentials: aws.brokerCredentials });
        assert.equal(response.status, status);
        const text = await response.text();
        assert.match(text, new RegExp(`<Code>${code}</Code><Message>${message}</Message>`));
      });
    }
  });

  describe("every error code becomes the SDK's typed exception", () => {
    // code, action, SDK error name, HTTP status
    const rows: Array<[string, "sts" | "iam", string, string]> = [
      ["AccessDenied", "sts", "AccessDenied", "403"],
      ["EntityTemporarilyUnmodifiable", "iam", "EntityTemporarilyUnmodifiableException", "409"],
      ["ExpiredToken", "sts", "ExpiredToken", "403"],
      ["ExpiredTokenException", "sts", "ExpiredTokenException", "400"],
      ["IDPCommunicationError", "sts", "IDPCommunicationErrorException", "400"],
      ["IDPRejectedClaim", "sts", "IDPRejectedClaimException", "403"],
      ["IncompleteSignature", "sts", "IncompleteSignature", "400"],
      ["InternalFailure", "sts", "InternalFailure", "500"],
      ["InvalidAction", "sts", "InvalidAction", "400"],
      ["InvalidClientTokenId", "sts", "InvalidClientTokenId", "403"],
      ["InvalidIdentityToken", "sts", "InvalidIdentityTokenException", "400"],
      ["InvalidInput", "iam", "InvalidInputException", "400"],
      ["InvalidParameterValue", "sts", "InvalidParameterValue", "400"],
      ["LimitExceeded", "iam", "LimitExceededException", "409"],
      ["MalformedPolicyDocument", "sts", "MalformedPolicyDocumentException", "400"],
      ["MalformedPolicyDocument", "iam", "MalformedPolicyDocumentException", "400"],
      ["MissingAction", "sts", "MissingAction", "400"],
      ["MissingAuthenticationToken", "sts", "MissingAuthenticationToken", "403"],
      ["MissingParameter", "sts", "MissingParameter", "400"],
      ["NoSuchEntity", "iam", "NoSuchEntityException", "404"],
      ["PackedPolicyTooLarge", "sts", "PackedPolicyTooLargeException", "400"],
      ["RegionDisabledException", "sts", "RegionDisabledException", "403"],
      ["ServiceFailure", "iam", "ServiceFailureException", "500"],
      ["ServiceUnavailable", "sts", "ServiceUnavailable", "503"],
      ["SignatureDoesNotMatch", "sts", "SignatureDoesNotMatch", "403"],
      ["Throttling", "sts", "Throttling", "400"],
      ["UnmodifiableEntity", "iam", "UnmodifiableEntityException", "400"],
      ["ValidationError", "sts", "ValidationError", "400"],
    ];

    test("the table covers the whole catalog", () => {
      assert.deepEqual([...new Set(rows.map(([code]) => code))].sort(), Object.keys(errorCatalog).sort());
    });

    for (const [code, service, name, status] of rows) {
      test(`${code} on ${service} → ${name} ${status}`, async () => {
        const entry = errorCatalog[code as keyof typeof errorCatalog];
        if (service === "sts") {
          aws.failNext("AssumeRole", code);
          await expectAwsError(assume("injected"), { name, status: Number(status), message: entry.message });
        } else {
          aws.failNext("GetRole", code);
          await expectAwsError(iam.send(new GetRoleCommand({ RoleName: ROLE })), {
            name,
            status: Number(status),
            message: entry.message,
          });
        }
      });
    }

    test("failNext fails exactly the next N calls of that action", async () => {
      aws.failNext("GetCallerIdentity", "Throttling", 2);
      const throttled = { name: "Throttling", status: 400, message: "Rate exceeded" };
      await expectAwsError(sts.send(new GetCallerIdentityCommand({})), throttled);
      await expectAwsError(sts.send(new GetCallerIdentityCommand({})), throttled);
      assert.equal((await sts.send(new GetCallerIdentityCommand({}))).$metadata.httpStatusCode, 200);
    });

    test("failNext refuses what it cannot inject", () => {
      assert.throws(() => aws.failNext("GetSessionToken", "Throttling"), {
        name: "TypeError",
        message: 'unknown action "GetSessionToken"',
      });
      assert.throws(() => aws.failNext("GetRole", "Teapot"), {
        name: "TypeError",
        message: 'unknown AWS error code "Teapot"',
      });
      assert.throws(() => aws.failNext("GetRole", "Throttling", 0), { name: "TypeError" });
    });
  });

  describe("SigV4 refusals through the SDK", () => {
    const mismatch = {
      name: "SignatureDoesNotMatch",
      status: 403,
      message:
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
    };
    const invalid = {
      name: "InvalidClientTokenId",
      status: 403,
      message: "The security token included in the request is invalid.",
    };

    test("a wrong secret", async () => {
      const client = stsClient(aws, { ...aws.brokerCredentials, secretAccessKey: newSecretAccessKey() });
      await expectAwsError(client.send(new GetCallerIdentityCommand({})), mismatch);
    });

    test("a body tampered with after signing", async () => {
      const client = stsClient(aws, aws.brokerCredentials);
      tamperAfterSigning(client, (request) => {
        request.body = String(request.body).replace("RoleSessionName=honest", "RoleSessionName=forged");
      });
      await expectAwsError(
        client.send(new AssumeRoleCommand({ RoleArn: roleArn(ROLE), RoleSessionName: "honest" })),
        mismatch,
      );
    });

    test("a signed header removed after signing", async () => {
      const client = stsClient(aws, aws.brokerCredentials);
      tamperAfterSigning(client, (request) => {
        delete request.headers["amz-sdk-invocation-id"];
      });
      await expectAwsError(client.send(new GetCallerIdentityCommand({})), mismatch);
    });

    test("a client clock 20 minutes ahead", async () => {
      const ahead = stsClient(aws, aws.brokerCredentials, { clockOffsetMs: 20 * 60 * 1000 });
      await expectAwsError(ahead.send(new GetCallerIdentityCommand({})), {
        name: "SignatureDoesNotMatch",
        status: 403,
        message:
          /^Signature not yet current: \d{8}T\d{6}Z is still later than \d{8}T\d{6}Z \(\d{8}T\d{6}Z \+ 15 min\.\)$/,
      });
    });

    test("an expired temporary credential", async () => {
      const start = clock;
      try {
        const creds = sessionCredentials(await assume("short-lived", { DurationSeconds: 900 }));
        clock = start + 900_000;
        const client = stsClient(aws, creds, { clockOffsetMs: clock - Date.now() });
        await expectAwsError(client.send(new GetCallerIdentityCommand({})), {
          name: "ExpiredToken",
          status: 403,
          message: "The security token included in the request is expired",
        });
        clock = start + 899_000;
        const fresh = stsClient(aws, creds, { clockOffsetMs: clock - Date.now() });
        assert.equal((await fresh.send(new GetCallerIdentityCommand({}))).$metadata.httpStatusCode, 200);
      } finally {
        clock = start;
      }
    });

    test("another session's token, no token, a token with the long-term key, an unknown key", async () => {
      const a = sessionCredentials(await assume("session-a"));
      const b = sessionCredentials(await assume("session-b"));
      await expectAwsError(
        stsClient(aws, { ...a, sessionToken: b.sessionToken }).send(new GetCallerIdentityCommand({})),
        invalid,
      );
      await expectAwsError(
        stsClient(aws, { accessKeyId: a.accessKeyId, secretAccessKey: a.secretAccessKey }).send(
          new GetCallerIdentityCommand({}),
        ),
        invalid,
      );
      await expectAwsError(
        stsClient(aws, { ...aws.brokerCredentials, sessionToken: a.sessionToken }).send(
          new GetCallerIdentityCommand({}),
        ),
        invalid,
      );
      const stranger = { accessKeyId: newKeyId("AKIA", ACCOUNT), secretAccessKey: newSecretAccessKey() };
      await expectAwsError(stsClient(aws, stranger).send(new GetCallerIdentityCommand({})), invalid);
    });

    test("a session token left out of SignedHeaders", async () => {
      const a = sessionCredentials(await assume("unsigned-token"));
      const response = await raw(aws, {
        params: { Action: "GetCallerIdentity", Version: "2011-06-15" },
        credentials: a,
        unsignedToken: true,
      });
      assert.equal(response.status, 400);
      assert.match(
        await response.text(),
        /<Code>IncompleteSignature<\/Code><Message>'X-Amz-Security-Token' must be a 'SignedHeader' in the AWS Authorization\.<\/Message>/,
      );
    });

    test("a request scoped to the wrong service or region", async () => {
      const wrongService = await raw(aws, {
        service: "sts",
        params: { Action: "GetRole", Version: "2010-05-08", RoleName: ROLE },
        credentials: aws.brokerCredentials,
      });
      assert.equal(wrongService.status, 403);
      assert.match(
        await wrongService.text(),
        /<Message>Credential should be scoped to correct service: 'iam'\. <\/Message>/,
      );
      await expectAwsError(
        stsClient(aws, aws.brokerCredentials, { region: "eu-west-1" }).send(new GetCallerIdentityCommand({})),
        {
          name: "SignatureDoesNotMatch",
          status: 403,
          message: "Credential should be scoped to a valid region, not 'eu-west-1'. ",
        },
      );
    });
  });
});

describe("AWS emulator configuration", () => {
  test("a non-default region: STS wants it, IAM also takes us-east-1 like the global service", async () => {
    const aws = await startAwsEmulator({ region: "eu-west-1", roles: [{ name: "r" }] });
    try {
      const me = await stsClient(aws, aws.brokerCredentials).send(new GetCallerIdentityCommand({}));
      assert.equal(me.Account, "123456789012");
      await expectAwsError(
        stsClient(aws, aws.brokerCredentials, { region: "us-east-1" }).send(new GetCallerIdentityCommand({})),
        {
          name: "SignatureDoesNotMatch",
          status: 403,
          message: "Credential should be scoped to a valid region, not 'us-east-1'. ",
        },
      );
      for (const region of ["eu-west-1", "us-east-1"]) {
        const role = await iamClient(aws, aws.brokerCredentials, { region }).send(
          new GetRoleCommand({ RoleName: "r" }),
        );
        assert.equal(role.Role?.Arn, "arn:aws:iam::123456789012:role/r");
      }
    } finally {
      await aws.close();
    }
  });

  test("a client clock 20 minutes behind is refused, and the SDK corrects it from the Date header", async () => {
    const aws = await startAwsEmulator({ now: () => Date.now() + 20 * 60 * 1000 });
    try {
      const expired =
        /^Signature expired: (\d{8}T\d{6}Z) is now earlier than (\d{8}T\d{6}Z) \((\d{8}T\d{6}Z) - 15 min\.\)$/;
      await expectAwsError(stsClient(aws, aws.brokerCredentials).send(new GetCallerIdentityCommand({})), {
        name: "SignatureDoesNotMatch",
        status: 403,
        message: expired,
      });
      const retrying = new STSClient({
        endpoint: aws.endpoint,
        region: aws.region,
        credentials: aws.brokerCredentials,
        maxAttempts: 2,
      });
      const out = await retrying.send(new GetCallerIdentityCommand({}));
      assert.equal(out.$metadata.attempts, 2);
      assert.equal(out.Account, "123456789012");
    } finally {
      await aws.close();
    }
  });

  test("emulators share nothing: one's keys are unknown to another", async () => {
    const [one, two] = await Promise.all([startAwsEmulator(), startAwsEmulator()]);
    try {
      assert.notEqual(one.brokerCredentials.accessKeyId, two.brokerCredentials.accessKeyId);
      await expectAwsError(stsClient(two, one.brokerCredentials).send(new GetCallerIdentityCommand({})), {
        name: "InvalidClientTokenId",
        status: 403,
        message: "The security token included in the request is invalid.",
      });
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });

  const misuse: Array<[string, () => Promise<unknown>, RegExp]> = [
    ["a short account id", () => startAwsEmulator({ accountId: "1234" }), /accountId must be 12 digits/],
    ["a bad region", () => startAwsEmulator({ region: "mars" }), /invalid region mars/],
    [
      "a zero packed limit",
      () => startAwsEmulator({ packedPolicyLimit: 0 }),
      /packedPolicyLimit must be positive/,
    ],
    [
      "a negative propagation delay",
      () => startAwsEmulator({ policyPropagationDelayMs: -1 }),
      /policyPropagationDelayMs must not be negative/,
    ],
    [
      "a duplicate role",
      () => startAwsEmulator({ roles: [{ name: "x" }, { name: "X" }] }),
      /role X already exists/,
    ],
    ["a bad role name", () => startAwsEmulator({ roles: [{ name: "a b" }] }), /invalid role name "a b"/],
    [
      "a too long session limit",
      () => startAwsEmulator({ roles: [{ name: "x", maxSessionDurationSeconds: 50000 }] }),
      /maxSessionDurationSeconds must be an integer from 3600 to 43200/,
    ],
    [
      "a wildcard principal",
      () => startAwsEmulator({ roles: [{ name: "x", trust: { principals: ["*"] } }] }),
      /may not be "\*"/,
    ],
    [
      "an unknown principal form",
      () => startAwsEmulator({ roles: [{ name: "x", trust: { principals: ["someone"] } }] }),
      /unsupported trust principal "someone"/,
    ],
    [
      "an OIDC provider without audiences",
      () => startAwsEmulator({ oidcProviders: [{ url: "https://issuer.example", audiences: [] }] }),
      /needs 1 to 100 audiences/,
    ],
    [
      "an OIDC provider URL with a query",
      () => startAwsEmulator({ oidcProviders: [{ url: "https://issuer.example/?a=b", audiences: ["x"] }] }),
      /without query or fragment/,
    ],
  ];
  for (const [name, start, message] of misuse) {
    test(`misuse is a TypeError at start: ${name}`, async () => {
      await assert.rejects(start(), (error: unknown) => {
        assert.ok(error instanceof TypeError);
        assert.match(error.message, message);
        return true;
      });
    });
  }

  test("addRole and addOidcProvider answer the ARNs IAM would", async () => {
    const aws = await startAwsEmulator({ accountId: "111122223333" });
    try {
      const role = aws.addRole({ name: "late", maxSessionDurationSeconds: 7200 });
      assert.equal(role.arn, "arn:aws:iam::111122223333:role/late");
      assert.match(role.roleId, /^AROA[A-Z2-7]{17}$/);
      const got = await iamClient(aws, aws.brokerCredentials).send(new GetRoleCommand({ RoleName: "late" }));
      assert.equal(got.Role?.RoleId, role.roleId);
      assert.equal(got.Role?.MaxSessionDuration, 7200);
      assert.deepEqual(
        aws.addOidcProvider({ url: "https://token.example.com/tenant/", audiences: ["sts.amazonaws.com"] }),
        {
          arn: "arn:aws:iam::111122223333:oidc-provider/token.example.com/tenant",
        },
      );
    } finally {
      await aws.close();
    }
  });
});
