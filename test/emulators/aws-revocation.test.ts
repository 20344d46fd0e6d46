// Revoking STS sessions the way Latchkey does: a Deny in a role inline policy, evaluated on every
// request signed with that role's temporary credentials. Also the condition operators and keys
// the evaluator supports, session-policy scope-down, and IAM's inline-policy budget and errors.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
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
  type STSClient,
} from "@aws-sdk/client-sts";
import { type AwsEmulator, startAwsEmulator } from "./aws/index.js";
import {
  expectAwsError,
  iamClient,
  sessionCredentials,
  stsClient,
  type TestCredentials,
} from "./aws/testing.js";

const ACCOUNT = "123456789012";
const arn = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const sessionArn = (role: string, name: string) => `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/${name}`;

const document = (...statements: Array<Record<string, unknown>>) =>
  JSON.stringify({ Version: "2012-10-17", Statement: statements });
const denyAll = (condition?: Record<string, unknown>) =>
  document({
    Effect: "Deny",
    Action: "*",
    Resource: "*",
    ...(condition === undefined ? {} : { Condition: condition }),
  });

const deniedByRolePolicy = (user: string, action: string, resource: string) => ({
  name: "AccessDenied",
  status: 403,
  message: `User: ${user} is not authorized to perform: ${action} on resource: ${resource} with an explicit deny in an identity-based policy`,
});

describe("revoking STS sessions with role inline policies", () => {
  let clock = Date.now();
  let aws: AwsEmulator;
  let brokerSts: STSClient;
  let brokerIam: IAMClient;

  /** Clients for a credential, signing with the emulator's (possibly advanced) clock. */
  const sts = (credentials: TestCredentials) =>
    stsClient(aws, credentials, { clockOffsetMs: clock - Date.now() });
  const iam = (credentials: TestCredentials) =>
    iamClient(aws, credentials, { clockOffsetMs: clock - Date.now() });

  async function assume(role: string, sessionName: string, extra: Partial<AssumeRoleCommandInput> = {}) {
    const client = stsClient(aws, aws.brokerCredentials, { clockOffsetMs: clock - Date.now() });
    return sessionCredentials(
      await client.send(
        new AssumeRoleCommand({ RoleArn: arn(role), RoleSessionName: sessionName, ...extra }),
      ),
    );
  }

  async function put(role: string, name: string, policyDocument: string) {
    await brokerIam.send(
      new PutRolePolicyCommand({ RoleName: role, PolicyName: name, PolicyDocument: policyDocument }),
    );
  }

  before(async () => {
    aws = await startAwsEmulator({
      accountId: ACCOUNT,
      now: () => clock,
      roles: [
        { name: "worker" },
        { name: "downstream", trust: { principals: [arn("worker")] } },
        { name: "budget" },
        { name: "conditions" },
      ],
    });
    brokerSts = stsClient(aws, aws.brokerCredentials);
    brokerIam = iamClient(aws, aws.brokerCredentials);
  });
  after(() => aws.close());

  test("a Deny on aws:SourceIdentity revokes one session and leaves the other working", async () => {
    const first = await assume("worker", "latchkey-task-1", { SourceIdentity: "task-1" });
    const second = await assume("worker", "latchkey-task-2", { SourceIdentity: "task-2" });
    const chainedBefore = sessionCredentials(
      await sts(first).send(new AssumeRoleCommand({ RoleArn: arn("downstream"), RoleSessionName: "hop" })),
    );

    const revoke = denyAll({ StringEquals: { "aws:SourceIdentity": ["task-1"] } });
    await put("worker", "LatchkeyRevokedSessions", revoke);
    assert.equal(aws.getRolePolicy("worker", "LatchkeyRevokedSessions"), revoke);

    await expectAwsError(
      iam(first).send(new GetRoleCommand({ RoleName: "worker" })),
      deniedByRolePolicy(sessionArn("worker", "latchkey-task-1"), "iam:GetRole", "role worker"),
    );
    await expectAwsError(
      sts(first).send(new AssumeRoleCommand({ RoleArn: arn("downstream"), RoleSessionName: "hop-2" })),
      deniedByRolePolicy(sessionArn("worker", "latchkey-task-1"), "sts:AssumeRole", arn("downstream")),
    );
    // A revoked session cannot lift its own revocation either.
    await expectAwsError(
      iam(first).send(
        new DeleteRolePolicyCommand({ RoleName: "worker", PolicyName: "LatchkeyRevokedSessions" }),
      ),
      deniedByRolePolicy(sessionArn("worker", "latchkey-task-1"), "iam:DeleteRolePolicy", "role worker"),
    );
    const me = await sts(first).send(new GetCallerIdentityCommand({}));
    assert.equal(me.Arn, sessionArn("worker", "latchkey-task-1"));

    assert.equal(
      (await iam(second).send(new GetRoleCommand({ RoleName: "worker" }))).Role?.RoleName,
      "worker",
    );
    const hop = await sts(second).send(
      new AssumeRoleCommand({ RoleArn: arn("downstream"), RoleSessionName: "hop-3" }),
    );
    assert.equal(hop.SourceIdentity, "task-2");

    // The chained session carries the source identity on, so the same Deny on the next role reaches it.
    assert.equal(
      (await iam(chainedBefore).send(new GetRoleCommand({ RoleName: "downstream" }))).$metadata
        .httpStatusCode,
      200,
    );
    await put("downstream", "LatchkeyRevokedSessions", revoke);
    await expectAwsError(
      iam(chainedBefore).send(new GetRoleCommand({ RoleName: "downstream" })),
      deniedByRolePolicy(sessionArn("downstream", "hop"), "iam:GetRole", "role downstream"),
    );

    // Policy changes apply at once, in both directions.
    await brokerIam.send(
      new DeleteRolePolicyCommand({ RoleName: "worker", PolicyName: "LatchkeyRevokedSessions" }),
    );
    assert.equal(
      (await iam(first).send(new GetRoleCommand({ RoleName: "worker" }))).$metadata.httpStatusCode,
      200,
    );
    await brokerIam.send(
      new DeleteRolePolicyCommand({ RoleName: "downstream", PolicyName: "LatchkeyRevokedSessions" }),
    );
  });

  test("a DateLessThan on aws:TokenIssueTime revokes the sessions issued before a moment", async () => {
    const start = clock;
    try {
      const older = await assume("worker", "older");
      clock += 60_000;
      const cutoff = new Date(clock - 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
      const newer = await assume("worker", "newer");
      await put(
        "worker",
        "AWSRevokeOlderSessions",
        denyAll({ DateLessThan: { "aws:TokenIssueTime": cutoff } }),
      );
      await expectAwsError(
        iam(older).send(new ListRolePoliciesCommand({ RoleName: "worker" })),
        deniedByRolePolicy(sessionArn("worker", "older"), "iam:ListRolePolicies", "role worker"),
      );
      const listed = await iam(newer).send(new ListRolePoliciesCommand({ RoleName: "worker" }));
      assert.deepEqual(listed.PolicyNames, ["AWSRevokeOlderSessions"]);
    } finally {
      await brokerIam.send(
        new DeleteRolePolicyCommand({ RoleName: "worker", PolicyName: "AWSRevokeOlderSessions" }),
      );
      clock = start;
    }
  });

  test("the inline policies of a role share 10,240 characters, white space not counted", async () => {
    // {"Version":"2012-10-17","Statement":[{"Sid":"<pad>","Effect":"Deny","Action":"*","Resource":"*"}]}
    const sized = (size: number) => {
      const overhead = document({ Sid: "", Effect: "Deny", Action: "*", Resource: "*" }).length;
      return document({ Sid: "x".repeat(size - overhead), Effect: "Deny", Action: "*", Resource: "*" });
    };
    assert.equal(sized(6000).length, 6000);
    await put("budget", "a", sized(6000));
    await put("budget", "b", sized(4240));
    const overflow = {
      name: "LimitExceededException",
      status: 409,
      message: "Maximum policy size of 10240 bytes exceeded for role budget",
    };
    await expectAwsError(
      brokerIam.send(
        new PutRolePolicyCommand({ RoleName: "budget", PolicyName: "c", PolicyDocument: sized(100) }),
      ),
      overflow,
    );
    await expectAwsError(
      brokerIam.send(
        new PutRolePolicyCommand({ RoleName: "budget", PolicyName: "b", PolicyDocument: sized(4241) }),
      ),
      overflow,
    );
    // Replacing a policy counts only its new version; layout white space is free.
    const spaced = JSON.stringify(JSON.parse(sized(4240)), null, 8);
    assert.ok(spaced.length > 4240);
    await put("budget", "b", spaced);
    assert.equal(aws.getRolePolicy("budget", "b"), spaced);
    const names = await brokerIam.send(new ListRolePoliciesCommand({ RoleName: "budget" }));
    assert.deepEqual(names.PolicyNames, ["a", "b"]);
  });

  describe("condition operators and keys", () => {
    let subject: TestCredentials;
    let chainedSubject: TestCredentials;

    before(async () => {
      subject = await assume("conditions", "session-a", {
        SourceIdentity: "task-a",
        Tags: [
          { Key: "team", Value: "blue" },
          { Key: "local", Value: "here" },
        ],
        TransitiveTagKeys: ["team"],
      });
      aws.addRole({ name: "conditions-next", trust: { principals: [arn("conditions")] } });
      chainedSubject = sessionCredentials(
        await sts(subject).send(
          new AssumeRoleCommand({ RoleArn: arn("conditions-next"), RoleSessionName: "next" }),
        ),
      );
    });

    // [description, statement, denied?]
    const rows: Array<[string, Record<string, unknown>, boolean]> = [
      [
        "StringEquals on a session tag",
        { Condition: { StringEquals: { "aws:PrincipalTag/team": "blue" } } },
        true,
      ],
      [
        "StringEquals on another tag value",
        { Condition: { StringEquals: { "aws:PrincipalTag/team": "red" } } },
        false,
      ],
      [
        "tag keys match whatever their case",
        { Condition: { StringEquals: { "AWS:PrincipalTag/TEAM": "blue" } } },
        true,
      ],
      ["StringLike on aws:userid", { Condition: { StringLike: { "aws:userid": "AROA*:session-a" } } }, true],
      [
        "StringLike on another session name",
        { Condition: { StringLike: { "aws:userid": "*:session-b" } } },
        false,
      ],
      [
        "ForAnyValue:StringEquals on aws:SourceIdentity",
        { Condition: { "ForAnyValue:StringEquals": { "aws:SourceIdentity": ["task-x", "task-a"] } } },
        true,
      ],
      [
        "ForAnyValue:StringLike",
        { Condition: { "ForAnyValue:StringLike": { "aws:SourceIdentity": ["task-?"] } } },
        true,
      ],
      [
        "StringNotEquals on the session's own value",
        { Condition: { StringNotEquals: { "aws:SourceIdentity": "task-a" } } },
        false,
      ],
      [
        "StringNotEquals on another value",
        { Condition: { StringNotEquals: { "aws:SourceIdentity": "task-b" } } },
        true,
      ],
      [
        "StringNotEquals on an absent key",
        { Condition: { StringNotEquals: { "aws:PrincipalTag/absent": "x" } } },
        true,
      ],
      ["StringNotLike", { Condition: { StringNotLike: { "aws:userid": "*:session-*" } } }, false],
      [
        "StringNotLike on an absent key",
        { Condition: { StringNotLike: { "aws:PrincipalTag/absent": "*" } } },
        true,
      ],
      [
        "DateGreaterThan on aws:TokenIssueTime",
        { Condition: { DateGreaterThan: { "aws:TokenIssueTime": "2000-01-01T00:00:00Z" } } },
        true,
      ],
      [
        "DateLessThan on aws:TokenIssueTime",
        { Condition: { DateLessThan: { "aws:TokenIssueTime": "2000-01-01T00:00:00Z" } } },
        false,
      ],
      [
        "DateGreaterThan on aws:CurrentTime in epoch seconds",
        { Condition: { DateGreaterThan: { "aws:CurrentTime": "946684800" } } },
        true,
      ],
      ["Null false on a present key", { Condition: { Null: { "aws:SourceIdentity": "false" } } }, true],
      ["Null true on an absent tag", { Condition: { Null: { "aws:PrincipalTag/absent": "true" } } }, true],
      [
        "StringEquals on aws:PrincipalArn (the role)",
        { Condition: { StringEquals: { "aws:PrincipalArn": arn("conditions") } } },
        true,
      ],
      [
        "all keys of a block must match",
        { Condition: { StringEquals: { "aws:PrincipalTag/team": "blue", "aws:SourceIdentity": "other" } } },
        false,
      ],
      [
        "an absent key never matches StringEquals",
        { Condition: { StringEquals: { "aws:PrincipalTag/absent": "x" } } },
        false,
      ],
      ["an action wildcard", { Action: "iam:Get*" }, true],
      ["another service's actions", { Action: ["s3:*", "sts:*"] }, false],
      ["actions match whatever their case", { Action: "IAM:getrole" }, true],
      ["NotAction", { NotAction: "sts:*" }, true],
      ["another resource", { Resource: arn("other") }, false],
      ["a resource wildcard", { Resource: "arn:aws:iam::*:role/cond*" }, true],
      ["NotResource", { NotResource: arn("conditions") }, false],
      ["an Allow changes nothing: roles allow implicitly", { Effect: "Allow" }, false],
    ];

    for (const [name, statement, denied] of rows) {
      test(`${name} → ${denied ? "denied" : "allowed"}`, async () => {
        const base: Record<string, unknown> = { Effect: "Deny", Resource: "*" };
        if (!("NotAction" in statement)) base.Action = "*";
        const merged = { ...base, ...statement };
        if ("NotResource" in statement) delete merged.Resource;
        await put("conditions", "probe", document(merged));
        const call = iam(subject).send(new GetRoleCommand({ RoleName: "conditions" }));
        if (denied) {
          await expectAwsError(
            call,
            deniedByRolePolicy(sessionArn("conditions", "session-a"), "iam:GetRole", "role conditions"),
          );
        } else {
          assert.equal((await call).Role?.RoleName, "conditions");
        }
      });
    }

    test("a chained session carries transitive tags and its source identity, not other tags", async () => {
      const probe = async (condition: Record<string, unknown>) => {
        await put("conditions-next", "probe", denyAll(condition));
        return iam(chainedSubject).send(new GetRoleCommand({ RoleName: "conditions-next" }));
      };
      const denial = deniedByRolePolicy(
        sessionArn("conditions-next", "next"),
        "iam:GetRole",
        "role conditions-next",
      );
      await expectAwsError(probe({ StringEquals: { "aws:PrincipalTag/team": "blue" } }), denial);
      await expectAwsError(probe({ StringEquals: { "aws:SourceIdentity": "task-a" } }), denial);
      await expectAwsError(probe({ Null: { "aws:PrincipalTag/local": "true" } }), denial);
      assert.equal(
        (await probe({ StringEquals: { "aws:PrincipalTag/local": "here" } })).$metadata.httpStatusCode,
        200,
      );
    });

    test("an operator the emulator does not evaluate is refused when stored", async () => {
      await expectAwsError(
        put("conditions", "probe", denyAll({ IpAddress: { "aws:SourceIp": "10.0.0.0/8" } })),
        {
          name: "MalformedPolicyDocumentException",
          status: 400,
          message: "The AWS emulator does not evaluate the condition operator IpAddress",
        },
      );
    });

    after(async () => {
      await brokerIam.send(new DeleteRolePolicyCommand({ RoleName: "conditions", PolicyName: "probe" }));
    });
  });

  describe("session policies scope a session down", () => {
    test("only what the session policy allows, minus what it denies", async () => {
      const scoped = await assume("worker", "scoped", {
        Policy: document(
          { Effect: "Allow", Action: ["iam:GetRole", "iam:GetRolePolicy"], Resource: "*" },
          { Effect: "Deny", Action: "iam:GetRolePolicy", Resource: "*" },
        ),
      });
      assert.equal(
        (await iam(scoped).send(new GetRoleCommand({ RoleName: "worker" }))).$metadata.httpStatusCode,
        200,
      );
      await expectAwsError(iam(scoped).send(new ListRolePoliciesCommand({ RoleName: "worker" })), {
        name: "AccessDenied",
        status: 403,
        message: `User: ${sessionArn("worker", "scoped")} is not authorized to perform: iam:ListRolePolicies on resource: role worker because no session policy allows the iam:ListRolePolicies action`,
      });
      await expectAwsError(
        iam(scoped).send(new GetRolePolicyCommand({ RoleName: "worker", PolicyName: "x" })),
        {
          name: "AccessDenied",
          status: 403,
          message: `User: ${sessionArn("worker", "scoped")} is not authorized to perform: iam:GetRolePolicy on resource: role worker with an explicit deny in a session policy`,
        },
      );
      assert.equal(
        (await sts(scoped).send(new GetCallerIdentityCommand({}))).Arn,
        sessionArn("worker", "scoped"),
      );
    });
  });

  describe("IAM inline-policy errors", () => {
    test("invalid documents are MalformedPolicyDocument", async () => {
      const cases: Array<[string, string]> = [
        ["not json", "This policy contains invalid Json"],
        ["[]", "This policy contains invalid Json"],
        ['{"Version":"2012-10-17"}', "Missing required field Statement"],
        ['{"Version":"2012-10-18","Statement":[]}', "The policy must contain a valid version string"],
        [document({ Effect: "Maybe", Action: "*", Resource: "*" }), "Syntax errors in policy."],
        [document({ Effect: "Deny", Resource: "*" }), "Policy statement must contain actions."],
        [
          document({ Effect: "Deny", Action: "iam:a:b", Resource: "*" }),
          "Actions/Condition can contain only one colon.",
        ],
        [
          document({ Effect: "Deny", Action: "*", Resource: "role/x" }),
          'Resource role/x must be in ARN format or "*".',
        ],
        [document({ Effect: "Deny", Action: "*", Resource: "*", Unknown: 1 }), "Syntax errors in policy."],
      ];
      for (const [text, message] of cases) {
        await expectAwsError(
          brokerIam.send(
            new PutRolePolicyCommand({ RoleName: "worker", PolicyName: "bad", PolicyDocument: text }),
          ),
          { name: "MalformedPolicyDocumentException", status: 400, message },
        );
      }
    });

    test("unknown roles and policies are NoSuchEntity", async () => {
      const noRole = {
        name: "NoSuchEntityException",
        status: 404,
        message: "The role with name ghost cannot be found.",
      };
      await expectAwsError(brokerIam.send(new GetRoleCommand({ RoleName: "ghost" })), noRole);
      await expectAwsError(
        brokerIam.send(
          new PutRolePolicyCommand({ RoleName: "ghost", PolicyName: "p", PolicyDocument: denyAll() }),
        ),
        noRole,
      );
      await expectAwsError(brokerIam.send(new ListRolePoliciesCommand({ RoleName: "ghost" })), noRole);
      const noPolicy = {
        name: "NoSuchEntityException",
        status: 404,
        message: "The role policy with name absent cannot be found.",
      };
      await expectAwsError(
        brokerIam.send(new GetRolePolicyCommand({ RoleName: "worker", PolicyName: "absent" })),
        noPolicy,
      );
      await expectAwsError(
        brokerIam.send(new DeleteRolePolicyCommand({ RoleName: "worker", PolicyName: "absent" })),
        noPolicy,
      );
    });

    test("names and documents are held to the model's constraints", async () => {
      await expectAwsError(
        brokerIam.send(
          new PutRolePolicyCommand({
            RoleName: "r".repeat(65),
            PolicyName: "bad name",
            PolicyDocument: denyAll(),
          }),
        ),
        {
          name: "ValidationError",
          status: 400,
          message: `2 validation errors detected: Value '${"r".repeat(65)}' at 'roleName' failed to satisfy constraint: Member must have length less than or equal to 64; Value 'bad name' at 'policyName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+`,
        },
      );
      await expectAwsError(brokerIam.send(new ListRolePoliciesCommand({ RoleName: "worker", MaxItems: 0 })), {
        name: "ValidationError",
        status: 400,
        message:
          "1 validation error detected: Value '0' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1",
      });
    });
  });

  test("a configured propagation delay holds a policy change back from requests, not from IAM's API", async () => {
    let now = Date.now();
    const slow = await startAwsEmulator({
      accountId: ACCOUNT,
      now: () => now,
      policyPropagationDelayMs: 60_000,
      roles: [{ name: "slow" }],
    });
    try {
      const at = () => ({ clockOffsetMs: now - Date.now() });
      const admin = iamClient(slow, slow.brokerCredentials);
      const session = sessionCredentials(
        await stsClient(slow, slow.brokerCredentials).send(
          new AssumeRoleCommand({ RoleArn: arn("slow"), RoleSessionName: "slow" }),
        ),
      );
      const getRole = () => iamClient(slow, session, at()).send(new GetRoleCommand({ RoleName: "slow" }));
      const denial = deniedByRolePolicy(sessionArn("slow", "slow"), "iam:GetRole", "role slow");

      await admin.send(
        new PutRolePolicyCommand({ RoleName: "slow", PolicyName: "revoke", PolicyDocument: denyAll() }),
      );
      const stored = await admin.send(new GetRolePolicyCommand({ RoleName: "slow", PolicyName: "revoke" }));
      assert.equal(decodeURIComponent(stored.PolicyDocument ?? ""), denyAll());
      now += 59_000;
      assert.equal((await getRole()).$metadata.httpStatusCode, 200);
      now += 1_000;
      await expectAwsError(getRole(), denial);

      await iamClient(slow, slow.brokerCredentials, at()).send(
        new DeleteRolePolicyCommand({ RoleName: "slow", PolicyName: "revoke" }),
      );
      now += 59_000;
      await expectAwsError(getRole(), denial);
      now += 1_000;
      assert.equal((await getRole()).$metadata.httpStatusCode, 200);
    } finally {
      await slow.close();
    }
  });

  test("the broker's own requests are never denied by role policies", async () => {
    await put("worker", "everything", denyAll());
    try {
      assert.equal(
        (await brokerIam.send(new GetRoleCommand({ RoleName: "worker" }))).$metadata.httpStatusCode,
        200,
      );
      const out = await brokerSts.send(
        new AssumeRoleCommand({ RoleArn: arn("worker"), RoleSessionName: "still-ok" }),
      );
      assert.equal(out.AssumedRoleUser?.Arn, sessionArn("worker", "still-ok"));
    } finally {
      await brokerIam.send(new DeleteRolePolicyCommand({ RoleName: "worker", PolicyName: "everything" }));
    }
  });
});
