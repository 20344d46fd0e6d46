// Every constraint STS enforces on AssumeRole, one row each with the exact code, status and
// message shape, through the real SDK: model constraints, the trust policy, session tags, source
// identity, session policy grammar and size, packing, and the role-chaining rules.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { deflateRawSync } from "node:zlib";
import {
  AssumeRoleCommand,
  type AssumeRoleCommandInput,
  GetCallerIdentityCommand,
  type STSClient,
} from "@aws-sdk/client-sts";
import { type AwsEmulator, startAwsEmulator } from "./aws/index.js";
import { type ExpectedAwsError, expectAwsError, sessionCredentials, stsClient } from "./aws/testing.js";

const ACCOUNT = "123456789012";
const arn = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const BROKER = `arn:aws:iam::${ACCOUNT}:user/latchkey-broker`;
const CHAINED = `arn:aws:sts::${ACCOUNT}:assumed-role/first/chain-origin`;

const validation = (message: string): ExpectedAwsError => ({ name: "ValidationError", status: 400, message });
const one = (detail: string) => validation(`1 validation error detected: ${detail}`);
const malformed = (message: string): ExpectedAwsError => ({
  name: "MalformedPolicyDocumentException",
  status: 400,
  message,
});
const invalidParameter = (message: string): ExpectedAwsError => ({
  name: "InvalidParameterValue",
  status: 400,
  message,
});
const denied = (user: string, action: string, role: string): ExpectedAwsError => ({
  name: "AccessDenied",
  status: 403,
  message: `User: ${user} is not authorized to perform: ${action} on resource: ${arn(role)}`,
});

const policy = (statement: Record<string, unknown>) =>
  JSON.stringify({ Version: "2012-10-17", Statement: [statement] });

// A wide, poorly compressible scope of the kind practitioners report failing the packed limit.
const WIDE_ACTIONS = [
  "cloudformation:CreateStack",
  "cloudformation:UpdateStack",
  "cloudformation:DeleteStack",
  "cloudformation:DescribeStacks",
  "cloudformation:DescribeStackEvents",
  "cloudformation:GetTemplate",
  "cloudformation:CreateChangeSet",
  "cloudformation:ExecuteChangeSet",
  "cloudformation:DescribeChangeSet",
  "dynamodb:CreateTable",
  "dynamodb:DeleteTable",
  "dynamodb:DescribeTable",
  "dynamodb:UpdateTable",
  "dynamodb:TagResource",
  "s3:CreateBucket",
  "s3:PutObject",
  "s3:GetObject",
  "s3:DeleteObject",
  "s3:ListBucket",
  "s3:PutBucketPolicy",
  "lambda:CreateFunction",
  "lambda:UpdateFunctionCode",
  "lambda:UpdateFunctionConfiguration",
  "lambda:DeleteFunction",
  "lambda:GetFunction",
  "lambda:AddPermission",
  "lambda:RemovePermission",
  "iam:CreateRole",
  "iam:DeleteRole",
  "iam:GetRole",
  "iam:PassRole",
  "iam:PutRolePolicy",
  "iam:DeleteRolePolicy",
  "iam:AttachRolePolicy",
  "iam:DetachRolePolicy",
  "logs:CreateLogGroup",
  "logs:DeleteLogGroup",
  "logs:PutRetentionPolicy",
  "logs:DescribeLogGroups",
  "apigateway:POST",
  "apigateway:GET",
  "apigateway:DELETE",
];
const WIDE_POLICY = policy({ Sid: "Deploy", Effect: "Allow", Action: WIDE_ACTIONS, Resource: "*" });

// 50 tags of hash-derived values: deterministic, and as incompressible as real identifiers.
const MANY_TAGS = Array.from({ length: 50 }, (_, i) => ({
  Key: `tag-${i}`,
  Value: createHash("sha256").update(String(i)).digest("hex").slice(0, 40),
}));

/** The packed share as packing.ts documents it: DEFLATE level 9 against the limit. */
const packedShare = (text: string, limit = 320) =>
  Math.ceil((deflateRawSync(text, { level: 9 }).length * 100) / limit);

interface Row {
  readonly name: string;
  readonly input: Partial<AssumeRoleCommandInput>;
  readonly expected: ExpectedAwsError;
  /** Who calls: the broker's key (default) or a session of role `first` (role chaining). */
  readonly caller?: "chained";
}

const rows: Row[] = [
  {
    name: "RoleSessionName too short",
    input: { RoleSessionName: "a" },
    expected: one(
      "Value 'a' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2",
    ),
  },
  {
    name: "RoleSessionName too long",
    input: { RoleSessionName: "s".repeat(65) },
    expected: one(
      `Value '${"s".repeat(65)}' at 'roleSessionName' failed to satisfy constraint: Member must have length less than or equal to 64`,
    ),
  },
  {
    name: "RoleSessionName with a space",
    input: { RoleSessionName: "a b" },
    expected: one(
      "Value 'a b' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
    ),
  },
  {
    name: "RoleSessionName missing",
    input: { RoleSessionName: undefined },
    expected: one("Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null"),
  },
  {
    name: "RoleArn too short",
    input: { RoleArn: "arn:aws:iam::1:r" },
    expected: one(
      "Value 'arn:aws:iam::1:r' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20",
    ),
  },
  {
    name: "RoleArn not an ARN",
    input: { RoleArn: "role/with-a-long-enough-name" },
    expected: validation("role/with-a-long-enough-name is invalid"),
  },
  {
    name: "DurationSeconds under 900",
    input: { DurationSeconds: 899 },
    expected: one(
      "Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900",
    ),
  },
  {
    name: "DurationSeconds over 43200",
    input: { DurationSeconds: 43201 },
    expected: one(
      "Value '43201' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200",
    ),
  },
  {
    name: "DurationSeconds over the role's MaxSessionDuration",
    input: { DurationSeconds: 3601 },
    expected: validation("The requested DurationSeconds exceeds the MaxSessionDuration set for this role."),
  },
  {
    name: "two violations are reported together",
    input: { RoleSessionName: "a:b", DurationSeconds: 100 },
    expected: validation(
      "2 validation errors detected: Value 'a:b' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*; Value '100' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900",
    ),
  },
  {
    name: "SourceIdentity too short",
    input: { SourceIdentity: "x" },
    expected: one(
      "Value 'x' at 'sourceIdentity' failed to satisfy constraint: Member must have length greater than or equal to 2",
    ),
  },
  {
    name: "SourceIdentity too long",
    input: { SourceIdentity: "i".repeat(65) },
    expected: one(
      `Value '${"i".repeat(65)}' at 'sourceIdentity' failed to satisfy constraint: Member must have length less than or equal to 64`,
    ),
  },
  {
    name: "SourceIdentity with the reserved aws: prefix (its colon is outside the pattern)",
    input: { SourceIdentity: "aws:internal" },
    expected: one(
      "Value 'aws:internal' at 'sourceIdentity' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
    ),
  },
  {
    name: "more than 50 tags",
    input: { Tags: Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: "v" })) },
    expected: one(
      `Value '[${Array.from({ length: 51 }, (_, i) => `k${i}=v`).join(", ")}]' at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50`,
    ),
  },
  {
    name: "a tag key over 128 characters",
    input: { Tags: [{ Key: "k".repeat(129), Value: "v" }] },
    expected: one(
      `Value '${"k".repeat(129)}' at 'tags.1.member.key' failed to satisfy constraint: Member must have length less than or equal to 128`,
    ),
  },
  {
    name: "an empty tag key",
    input: { Tags: [{ Key: "", Value: "v" }] },
    expected: validation(
      "2 validation errors detected: Value '' at 'tags.1.member.key' failed to satisfy constraint: Member must have length greater than or equal to 1; Value '' at 'tags.1.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+",
    ),
  },
  {
    name: "a tag value over 256 characters",
    input: { Tags: [{ Key: "ok", Value: "v".repeat(257) }] },
    expected: one(
      `Value '${"v".repeat(257)}' at 'tags.1.member.value' failed to satisfy constraint: Member must have length less than or equal to 256`,
    ),
  },
  {
    name: "a tag key outside the pattern",
    input: {
      Tags: [
        { Key: "ok", Value: "v" },
        { Key: "bad*key", Value: "v" },
      ],
    },
    expected: one(
      "Value 'bad*key' at 'tags.2.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+",
    ),
  },
  {
    name: "tag keys that differ only in case",
    input: {
      Tags: [
        { Key: "Team", Value: "a" },
        { Key: "team", Value: "b" },
      ],
    },
    expected: invalidParameter("Duplicate tag keys found. Please note that Tag keys are case insensitive."),
  },
  {
    name: "a transitive key that is not a requested tag",
    input: { Tags: [{ Key: "team", Value: "a" }], TransitiveTagKeys: ["project"] },
    expected: invalidParameter("The specified transitive tag key must be included in the requested tags."),
  },
  {
    name: "a session policy over 2048 characters",
    input: {
      Policy: policy({ Sid: "x".repeat(2000), Effect: "Allow", Action: "s3:GetObject", Resource: "*" }),
    },
    expected: {
      name: "ValidationError",
      status: 400,
      message:
        /^1 validation error detected: Value '\{.*' at 'policy' failed to satisfy constraint: Member must have length less than or equal to 2048$/,
    },
  },
  {
    name: "a session policy with a character outside the pattern",
    input: { Policy: policy({ Sid: "\u0100", Effect: "Allow", Action: "s3:GetObject", Resource: "*" }) },
    expected: {
      name: "ValidationError",
      status: 400,
      message:
        /^1 validation error detected: Value '.*' at 'policy' failed to satisfy constraint: Member must satisfy regular expression pattern: \[\\u0009\\u000A\\u000D\\u0020-\\u00FF\]\+$/,
    },
  },
  {
    name: "a session policy that is not JSON",
    input: { Policy: "{" },
    expected: malformed("This policy contains invalid Json"),
  },
  {
    name: "a session policy that is null",
    input: { Policy: "null" },
    expected: malformed("This text appears not to be a policy"),
  },
  {
    name: "a session policy without statements",
    input: { Policy: JSON.stringify({ Version: "2012-10-17", Statement: [] }) },
    expected: malformed("Could not parse the policy: Statement is empty!"),
  },
  {
    name: "a session policy statement without Effect",
    input: { Policy: policy({ Action: "s3:GetObject", Resource: "*" }) },
    expected: malformed("Missing required field Effect"),
  },
  {
    name: "a session policy naming a principal",
    input: { Policy: policy({ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "*" }) },
    expected: malformed("Policy document should not specify a principal."),
  },
  {
    name: "a session policy action without a vendor",
    input: { Policy: policy({ Effect: "Allow", Action: "GetObject", Resource: "*" }) },
    expected: malformed("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."),
  },
  {
    name: "a session policy without resources",
    input: { Policy: policy({ Effect: "Allow", Action: "s3:GetObject" }) },
    expected: malformed("Policy statement must contain resources."),
  },
  {
    name: "more than 10 policy ARNs",
    input: {
      PolicyArns: Array.from({ length: 11 }, (_, i) => ({ arn: `arn:aws:iam::${ACCOUNT}:policy/p${i}` })),
    },
    expected: one(
      `Value '[${Array.from({ length: 11 }, (_, i) => `arn:aws:iam::${ACCOUNT}:policy/p${i}`).join(", ")}]' at 'policyArns' failed to satisfy constraint: Member must have length less than or equal to 10`,
    ),
  },
  {
    name: "a policy ARN too short",
    input: { PolicyArns: [{ arn: "arn:short" }] },
    expected: one(
      "Value 'arn:short' at 'policyArns.1.member.arn' failed to satisfy constraint: Member must have length greater than or equal to 20",
    ),
  },
  {
    name: "a wide session policy over the packed limit",
    input: { Policy: WIDE_POLICY },
    expected: {
      name: "PackedPolicyTooLargeException",
      status: 400,
      message: `Packed policy consumes ${packedShare(WIDE_POLICY)}% of allotted space`,
    },
  },
  {
    name: "50 long incompressible tags over the packed limit",
    input: { Tags: MANY_TAGS },
    expected: {
      name: "PackedPolicyTooLargeException",
      status: 400,
      message: `Packed size of session tags consumes ${packedShare(MANY_TAGS.map((t) => `${t.Key}=${t.Value}\n`).join(""))}% of allotted space.`,
    },
  },
  {
    name: "ExternalId too short",
    input: { ExternalId: "x" },
    expected: one(
      "Value 'x' at 'externalId' failed to satisfy constraint: Member must have length greater than or equal to 2",
    ),
  },
  {
    name: "SerialNumber too short",
    input: { SerialNumber: "arn:mfa" },
    expected: one(
      "Value 'arn:mfa' at 'serialNumber' failed to satisfy constraint: Member must have length greater than or equal to 9",
    ),
  },
  {
    name: "TokenCode not six digits",
    input: { TokenCode: "12a45" },
    expected: validation(
      "2 validation errors detected: Value '12a45' at 'tokenCode' failed to satisfy constraint: Member must have length greater than or equal to 6; Value '12a45' at 'tokenCode' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\d]*",
    ),
  },
  {
    name: "MinimumSessionTokenSize over 4096",
    input: { MinimumSessionTokenSize: 5000 },
    expected: one(
      "Value '5000' at 'minimumSessionTokenSize' failed to satisfy constraint: Member must have value less than or equal to 4096",
    ),
  },
  {
    name: "a role that does not exist",
    input: { RoleArn: arn("ghost") },
    expected: denied(BROKER, "sts:AssumeRole", "ghost"),
  },
  {
    name: "a role in another account",
    input: { RoleArn: "arn:aws:iam::999999999999:role/target" },
    expected: {
      name: "AccessDenied",
      status: 403,
      message: `User: ${BROKER} is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::999999999999:role/target`,
    },
  },
  {
    name: "a role whose trust names someone else",
    input: { RoleArn: arn("someone-elses") },
    expected: denied(BROKER, "sts:AssumeRole", "someone-elses"),
  },
  {
    name: "tags on a role that does not trust sts:TagSession",
    input: { RoleArn: arn("no-tags"), Tags: [{ Key: "latchkey:session", Value: "s" }] },
    expected: denied(BROKER, "sts:TagSession", "no-tags"),
  },
  {
    name: "a source identity on a role that does not trust sts:SetSourceIdentity",
    input: { RoleArn: arn("no-source"), SourceIdentity: "task-1" },
    expected: denied(BROKER, "sts:SetSourceIdentity", "no-source"),
  },
  {
    name: "role chaining beyond one hour",
    caller: "chained",
    input: { RoleArn: arn("second"), DurationSeconds: 3601 },
    expected: validation(
      "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
    ),
  },
  {
    name: "role chaining with another source identity",
    caller: "chained",
    input: { RoleArn: arn("second"), SourceIdentity: "someone-else" },
    expected: validation("The source identity is already set for this assume role session"),
  },
  {
    name: "role chaining that re-sets an inherited transitive tag, whatever its case",
    caller: "chained",
    input: { RoleArn: arn("second"), Tags: [{ Key: "TEAM", Value: "other" }] },
    expected: invalidParameter(
      "One of the specified transitive tag keys can't be set because it conflicts with a transitive tag key from the calling session.",
    ),
  },
  {
    name: "role chaining with inherited tags into a role without sts:TagSession",
    caller: "chained",
    input: { RoleArn: arn("second-no-tags") },
    expected: denied(CHAINED, "sts:TagSession", "second-no-tags"),
  },
  {
    name: "role chaining into a role that trusts only the broker",
    caller: "chained",
    input: { RoleArn: arn("target") },
    expected: denied(CHAINED, "sts:AssumeRole", "target"),
  },
];

describe("STS constraints on AssumeRole", () => {
  let aws: AwsEmulator;
  let broker: STSClient;
  let chained: STSClient;

  // A fixed emulator clock, so expirations are exact; the SDK signs with the real clock, well
  // within the 15 minutes allowed.
  const clock = Date.now();

  before(async () => {
    aws = await startAwsEmulator({
      accountId: ACCOUNT,
      now: () => clock,
      roles: [
        { name: "target" },
        { name: "long", maxSessionDurationSeconds: 43200 },
        { name: "no-tags", trust: { tagSession: false } },
        { name: "no-source", trust: { setSourceIdentity: false } },
        { name: "someone-elses", trust: { principals: [`arn:aws:iam::${ACCOUNT}:user/someone-else`] } },
        { name: "first" },
        { name: "second", maxSessionDurationSeconds: 43200, trust: { principals: [arn("first")] } },
        { name: "second-no-tags", trust: { principals: [arn("first")], tagSession: false } },
      ],
    });
    broker = stsClient(aws, aws.brokerCredentials);
    const origin = await broker.send(
      new AssumeRoleCommand({
        RoleArn: arn("first"),
        RoleSessionName: "chain-origin",
        SourceIdentity: "origin",
        Tags: [
          { Key: "team", Value: "blue" },
          { Key: "local", Value: "only-here" },
        ],
        TransitiveTagKeys: ["team"],
      }),
    );
    chained = stsClient(aws, sessionCredentials(origin));
  });
  after(() => aws.close());

  for (const row of rows) {
    test(row.name, async () => {
      const client = row.caller === "chained" ? chained : broker;
      const input: AssumeRoleCommandInput = {
        RoleArn: arn("target"),
        RoleSessionName: "constraints",
        ...row.input,
      };
      await expectAwsError(client.send(new AssumeRoleCommand(input)), row.expected);
    });
  }

  test("the bounds themselves are accepted", async () => {
    const ok = async (input: Partial<AssumeRoleCommandInput>) =>
      broker.send(new AssumeRoleCommand({ RoleArn: arn("target"), RoleSessionName: "ok", ...input }));
    assert.equal((await ok({ RoleSessionName: "ab" })).$metadata.httpStatusCode, 200);
    assert.equal((await ok({ RoleSessionName: "a".repeat(64) })).$metadata.httpStatusCode, 200);
    assert.equal(
      (await ok({ RoleSessionName: "x_y+z=w,v.u@t-s", DurationSeconds: 900 })).$metadata.httpStatusCode,
      200,
    );
    assert.equal((await ok({ DurationSeconds: 3600 })).$metadata.httpStatusCode, 200);
    const long = await broker.send(
      new AssumeRoleCommand({ RoleArn: arn("long"), RoleSessionName: "long", DurationSeconds: 43200 }),
    );
    assert.equal(long.Credentials?.Expiration?.getTime(), Math.floor(clock / 1000) * 1000 + 43200_000);
    const tags = Array.from({ length: 50 }, (_, i) => ({ Key: `k${i}`, Value: "" }));
    assert.equal((await ok({ Tags: tags, SourceIdentity: "i".repeat(64) })).$metadata.httpStatusCode, 200);
    const arns = Array.from({ length: 10 }, (_, i) => ({ arn: `arn:aws:iam::${ACCOUNT}:policy/p${i}` }));
    assert.equal((await ok({ PolicyArns: arns })).$metadata.httpStatusCode, 200);
  });

  test("the packed limit is configurable", async () => {
    const roomy = await startAwsEmulator({
      accountId: ACCOUNT,
      packedPolicyLimit: 1000,
      roles: [{ name: "target" }],
    });
    try {
      const out = await stsClient(roomy, roomy.brokerCredentials).send(
        new AssumeRoleCommand({ RoleArn: arn("target"), RoleSessionName: "wide", Policy: WIDE_POLICY }),
      );
      assert.equal(out.PackedPolicySize, packedShare(WIDE_POLICY, 1000));
      assert.ok((out.PackedPolicySize ?? 0) < 100);
    } finally {
      await roomy.close();
    }
  });

  test("the heuristic's documented calibration: a 42-action policy overflows, a small one uses a third", () => {
    assert.equal(packedShare(WIDE_POLICY), 121);
    const small = policy({
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:PutObject"],
      Resource: "arn:aws:s3:::preview/*",
    });
    assert.ok(packedShare(small) < 50);
  });

  describe("role chaining", () => {
    test("the source identity persists, and may be passed again unchanged", async () => {
      const out = await chained.send(
        new AssumeRoleCommand({ RoleArn: arn("second"), RoleSessionName: "hop" }),
      );
      assert.equal(out.SourceIdentity, "origin");
      assert.equal(out.AssumedRoleUser?.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/second/hop`);
      assert.equal(out.Credentials?.Expiration?.getTime(), Math.floor(clock / 1000) * 1000 + 3600_000);
      const again = await chained.send(
        new AssumeRoleCommand({ RoleArn: arn("second"), RoleSessionName: "hop-2", SourceIdentity: "origin" }),
      );
      assert.equal(again.SourceIdentity, "origin");
    });

    test("the chained session is itself a caller STS knows", async () => {
      const out = await chained.send(
        new AssumeRoleCommand({ RoleArn: arn("second"), RoleSessionName: "whoami" }),
      );
      const me = await stsClient(aws, sessionCredentials(out)).send(new GetCallerIdentityCommand({}));
      assert.equal(me.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/second/whoami`);
    });
  });
});
