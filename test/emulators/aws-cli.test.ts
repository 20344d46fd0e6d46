// Debian's real awscli (botocore, its own SigV4 signer and XML parser) against the emulator, with
// the broker's key and with temporary credentials, all passed the way agents pass them: env vars.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { PutRolePolicyCommand } from "@aws-sdk/client-iam";
import { newSecretAccessKey } from "./aws/ids.js";
import { type AwsEmulator, startAwsEmulator } from "./aws/index.js";
import { iamClient, type TestCredentials } from "./aws/testing.js";

// Debian's package; /root/.pyenv/shims/aws, earlier on PATH, is an unrelated aws-cli v1.
const AWS_CLI = "/usr/bin/aws";
const ACCOUNT = "123456789012";
const arn = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const run = promisify(execFile);

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

describe("awscli against the emulator", { concurrency: 4 }, () => {
  let aws: AwsEmulator;
  let home: string;

  async function cli(credentials: TestCredentials, ...args: string[]): Promise<CliResult> {
    assert.ok(
      existsSync(AWS_CLI),
      `${AWS_CLI} is missing: install Debian's awscli with \`apt-get install -y awscli\``,
    );
    const env: Record<string, string> = {
      PATH: "/usr/bin:/bin",
      HOME: home,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_DEFAULT_REGION: aws.region,
      AWS_CONFIG_FILE: join(home, "no-config"),
      AWS_SHARED_CREDENTIALS_FILE: join(home, "no-credentials"),
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_PAGER: "",
    };
    if (credentials.sessionToken !== undefined) env.AWS_SESSION_TOKEN = credentials.sessionToken;
    try {
      const { stdout, stderr } = await run(
        AWS_CLI,
        [...args, "--endpoint-url", aws.endpoint, "--output", "json"],
        {
          env,
          timeout: 60_000,
        },
      );
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code?: number; stdout?: string; stderr?: string };
      return { code: failed.code ?? -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
    }
  }

  async function json(credentials: TestCredentials, ...args: string[]): Promise<Record<string, unknown>> {
    const result = await cli(credentials, ...args);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as Record<string, unknown>;
  }

  async function assumeWithCli(
    sessionName: string,
    sourceIdentity: string,
  ): Promise<Required<TestCredentials>> {
    const out = await json(
      aws.brokerCredentials,
      "sts",
      "assume-role",
      "--role-arn",
      arn("agent"),
      "--role-session-name",
      sessionName,
      "--source-identity",
      sourceIdentity,
    );
    const c = out.Credentials as { AccessKeyId: string; SecretAccessKey: string; SessionToken: string };
    return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
  }

  before(async () => {
    home = await mkdtemp(join(tmpdir(), "latchkey-awscli-"));
    aws = await startAwsEmulator({
      accountId: ACCOUNT,
      roles: [{ name: "agent" }, { name: "downstream", trust: { principals: [arn("agent")] } }],
    });
  });
  after(async () => {
    await aws.close();
    await rm(home, { recursive: true, force: true });
  });

  test("sts get-caller-identity with the broker key", async () => {
    const out = await json(aws.brokerCredentials, "sts", "get-caller-identity");
    assert.equal(out.Account, ACCOUNT);
    assert.equal(out.Arn, `arn:aws:iam::${ACCOUNT}:user/latchkey-broker`);
    assert.match(String(out.UserId), /^AIDA[A-Z2-7]{17}$/);
    assert.ok(
      aws.requests.some(
        (r) => r.action === "GetCallerIdentity" && r.accessKeyId === aws.brokerCredentials.accessKeyId,
      ),
    );
  });

  test("sts assume-role with tags and a source identity", async () => {
    const out = await json(
      aws.brokerCredentials,
      "sts",
      "assume-role",
      "--role-arn",
      arn("agent"),
      "--role-session-name",
      "cli-session",
      "--source-identity",
      "cli-task",
      "--tags",
      "Key=team,Value=blue",
      "--transitive-tag-keys",
      "team",
      "--duration-seconds",
      "900",
    );
    const credentials = out.Credentials as Record<string, string>;
    assert.match(credentials.AccessKeyId ?? "", /^ASIA[A-Z2-7]{16}$/);
    assert.match(credentials.Expiration ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
    assert.deepEqual(out.AssumedRoleUser, {
      AssumedRoleId: (out.AssumedRoleUser as { AssumedRoleId: string }).AssumedRoleId,
      Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/agent/cli-session`,
    });
    assert.match(
      (out.AssumedRoleUser as { AssumedRoleId: string }).AssumedRoleId,
      /^AROA[A-Z2-7]{17}:cli-session$/,
    );
    assert.equal(out.SourceIdentity, "cli-task");
  });

  test("iam get-role with the broker key, the trust policy decoded by the CLI", async () => {
    const out = await json(aws.brokerCredentials, "iam", "get-role", "--role-name", "downstream");
    const role = out.Role as Record<string, unknown>;
    assert.equal(role.RoleName, "downstream");
    assert.equal(role.Arn, arn("downstream"));
    assert.equal(role.MaxSessionDuration, 3600);
    assert.deepEqual(role.AssumeRolePolicyDocument, {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { AWS: arn("agent") },
          Action: ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
        },
      ],
    });
  });

  test("temporary credentials: get-caller-identity, iam get-role, a chained assume-role", async () => {
    const session = await assumeWithCli("cli-temp", "cli-temp-task");
    const me = await json(session, "sts", "get-caller-identity");
    assert.equal(me.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/agent/cli-temp`);
    const role = await json(session, "iam", "get-role", "--role-name", "agent");
    assert.equal((role.Role as { RoleName: string }).RoleName, "agent");
    const hop = await json(
      session,
      "sts",
      "assume-role",
      "--role-arn",
      arn("downstream"),
      "--role-session-name",
      "cli-hop",
    );
    assert.equal(hop.SourceIdentity, "cli-temp-task");
    assert.equal(
      (hop.AssumedRoleUser as { Arn: string }).Arn,
      `arn:aws:sts::${ACCOUNT}:assumed-role/downstream/cli-hop`,
    );
  });

  test("a wrong secret is refused as AWS refuses it", async () => {
    const result = await cli(
      { ...aws.brokerCredentials, secretAccessKey: newSecretAccessKey() },
      "sts",
      "get-caller-identity",
    );
    assert.equal(result.code, 254);
    assert.match(
      result.stderr,
      /An error occurred \(SignatureDoesNotMatch\) when calling the GetCallerIdentity operation: The request signature we calculated does not match the signature you provided\. Check your AWS Secret Access Key and signing method\. Consult the service documentation for details\./,
    );
  });

  test("a revoked session: AccessDenied for iam get-role, get-caller-identity still answers", async () => {
    const session = await assumeWithCli("cli-revoked", "cli-revoked-task");
    await iamClient(aws, aws.brokerCredentials).send(
      new PutRolePolicyCommand({
        RoleName: "agent",
        PolicyName: "LatchkeyRevokedSessions",
        PolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Deny",
              Action: "*",
              Resource: "*",
              Condition: { StringEquals: { "aws:SourceIdentity": ["cli-revoked-task"] } },
            },
          ],
        }),
      }),
    );
    const denied = await cli(session, "iam", "get-role", "--role-name", "agent");
    assert.equal(denied.code, 254);
    assert.match(
      denied.stderr,
      new RegExp(
        `An error occurred \\(AccessDenied\\) when calling the GetRole operation: User: arn:aws:sts::${ACCOUNT}:assumed-role/agent/cli-revoked is not authorized to perform: iam:GetRole on resource: role agent with an explicit deny in an identity-based policy`,
      ),
    );
    const me = await json(session, "sts", "get-caller-identity");
    assert.equal(me.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/agent/cli-revoked`);
  });
});
