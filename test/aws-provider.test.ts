import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { GetRoleCommand, IAMClient, PutRolePolicyCommand } from "@aws-sdk/client-iam";
import type { Store } from "../src/store/types.js";
import type { AwsEmulator } from "./emulators/aws/index.js";
import { awsProviderConfig, awsScope, startEmulatorWithRoles } from "./helpers/aws.js";
import { bearer, createTestBroker, type TestBroker } from "./helpers/broker.js";
import { latchkeyBin } from "./helpers/cli.js";
import { storeFactories } from "./helpers/stores.js";

const run = promisify(execFile);
const account = "123456789012";
const roleArn = (name: string) => `arn:aws:iam::${account}:role/${name}`;
const tmp = mkdtempSync(join(tmpdir(), "latchkey-aws-"));

const callerIdentityScript = `
import { STSClient, GetCallerIdentityCommand } from "@aws-sdk/client-sts";
const [endpoint, region] = process.argv.slice(1);
const sts = new STSClient({ endpoint, region, maxAttempts: 1 });
const answer = await sts.send(new GetCallerIdentityCommand({}));
process.stdout.write(answer.Arn);
`;

interface Opened {
  sessionId: string;
  agentToken: string;
  credentials: {
    id: string;
    provider: string;
    grant: string;
    secret: Record<string, string>;
    state: string;
  }[];
}

for (const factory of storeFactories()) {
  describe(`AWS provider against the STS/IAM emulator (${factory.name} store)`, () => {
    let emulator: AwsEmulator;
    let store: Store;
    let broker: TestBroker;
    let metadataUrl: string;
    const secrets: string[] = [];

    before(async () => {
      emulator = await startEmulatorWithRoles("preview-artifacts", "budget-role");
      emulator.addRole({
        name: "untrusting",
        trust: { principals: [`arn:aws:iam::${account}:user/someone-else`] },
      });
      store = await factory.create();
      const aws = awsProviderConfig(emulator);
      broker = await createTestBroker({
        store,
        scopes: [
          awsScope("artifacts", roleArn("preview-artifacts"), {
            sessionPolicy: {
              Version: "2012-10-17",
              Statement: [
                { Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "iam:GetRole"], Resource: "*" },
              ],
            },
          }),
          awsScope("untrusted", roleArn("untrusting")),
          awsScope("budget", roleArn("budget-role")),
          {
            name: "mixed",
            description: "a JWT grant and an AWS grant on a role the broker may not assume",
            maxTtlSeconds: 3600,
            grants: [
              { name: "api", provider: "jwt", audience: "https://api.test.example" },
              { name: "artifacts", provider: "aws", roleArn: roleArn("untrusting") },
            ],
          },
        ],
        ...aws,
      });
      await broker.apps.metadata.listen({ host: "127.0.0.1", port: 0 });
      const address = broker.apps.metadata.server.address();
      metadataUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    });
    after(async () => {
      await broker.close();
      await store.close();
      await emulator.close();
    });

    const open = async (sessionId: string, scopes = ["artifacts"]) => {
      const response = await broker.apps.api.inject({
        method: "POST",
        url: "/v1/sessions",
        headers: bearer(broker.keys.orchA),
        payload: { sessionId, scopes },
      });
      if (response.statusCode === 201) {
        const body = response.json();
        secrets.push(body.agentToken);
        for (const c of body.credentials) secrets.push(...Object.values(c.secret as Record<string, string>));
        return {
          status: 201,
          body: { sessionId, agentToken: body.agentToken, credentials: body.credentials } as Opened,
        };
      }
      return { status: response.statusCode, body: response.json() };
    };
    const end = (sessionId: string) =>
      broker.apps.api.inject({
        method: "DELETE",
        url: `/v1/sessions/${sessionId}`,
        headers: bearer(broker.keys.orchA),
      });
    const iamAs = (secret: Record<string, string>) =>
      new IAMClient({
        endpoint: emulator.endpoint,
        region: emulator.region,
        maxAttempts: 1,
        credentials: {
          accessKeyId: secret.AccessKeyId as string,
          secretAccessKey: secret.SecretAccessKey as string,
          sessionToken: secret.SessionToken as string,
        },
      });

    test("AssumeRole binds the credential to the session: source identity, session name, tags", async () => {
      const opened = await open("aws-bound-1");
      assert.equal(opened.status, 201, JSON.stringify(opened.body));
      const [credential] = (opened.body as Opened).credentials;
      assert.equal(credential?.provider, "aws");
      assert.match(credential?.secret.AccessKeyId ?? "", /^ASIA[A-Z2-7]{16}$/);
      const view = await broker.apps.api.inject({
        method: "GET",
        url: "/v1/sessions/aws-bound-1",
        headers: bearer(broker.keys.orchA),
      });
      const reference = view.json().credentials[0].reference;
      assert.equal(reference.sourceIdentity, "aws-bound-1");
      assert.equal(
        reference.arn,
        `arn:aws:sts::${account}:assumed-role/preview-artifacts/latchkey-aws-bound-1`,
      );
      assert.equal(
        view.body.includes(credential?.secret.SecretAccessKey ?? "none"),
        false,
        "no secret in GET",
      );
    });

    test("the agent's AWS SDK default chain, with only the container-credential variables, reaches STS as the session", async () => {
      const opened = (await open("aws-sdk-chain")).body as Opened;
      const tokenFile = join(tmp, `${opened.sessionId}.token`);
      writeFileSync(tokenFile, opened.agentToken, { mode: 0o400 });
      const { stdout } = await run(
        process.execPath,
        ["--input-type=module", "-e", callerIdentityScript, emulator.endpoint, emulator.region],
        {
          cwd: process.cwd(),
          env: {
            PATH: process.env.PATH ?? "",
            AWS_CONTAINER_CREDENTIALS_FULL_URI: `${metadataUrl}/v1/credentials/aws/artifacts`,
            AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFile,
          },
        },
      );
      assert.equal(stdout, `arn:aws:sts::${account}:assumed-role/preview-artifacts/latchkey-aws-sdk-chain`);
    });

    test("Debian's awscli reaches STS through the container variables and through credential_process", async () => {
      const opened = (await open("aws-cli-both")).body as Opened;
      const tokenFile = join(tmp, `${opened.sessionId}.token`);
      writeFileSync(tokenFile, opened.agentToken, { mode: 0o400 });
      const expected = `arn:aws:sts::${account}:assumed-role/preview-artifacts/latchkey-aws-cli-both`;
      const cli = (env: Record<string, string>) =>
        run(
          "/usr/bin/aws",
          [
            "sts",
            "get-caller-identity",
            "--endpoint-url",
            emulator.endpoint,
            "--region",
            emulator.region,
            "--output",
            "json",
          ],
          {
            env: {
              PATH: process.env.PATH ?? "",
              HOME: tmp,
              AWS_CONFIG_FILE: join(tmp, "none"),
              AWS_SHARED_CREDENTIALS_FILE: join(tmp, "none"),
              ...env,
            },
          },
        ).catch((error: { stderr?: string; code?: string }) => {
          if (error.code === "ENOENT")
            throw new Error("Debian's awscli is not installed: apt-get install awscli");
          throw error;
        });
      // This awscli predates AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE; it reads the token itself.
      const container = await cli({
        AWS_CONTAINER_CREDENTIALS_FULL_URI: `${metadataUrl}/v1/credentials/aws/artifacts`,
        AWS_CONTAINER_AUTHORIZATION_TOKEN: opened.agentToken,
      });
      assert.equal(JSON.parse(container.stdout).Arn, expected);
      const configFile = join(tmp, `${opened.sessionId}.config`);
      writeFileSync(
        configFile,
        `[default]\ncredential_process = ${process.execPath} ${latchkeyBin} credential-process aws artifacts\n`,
      );
      const viaProcess = await cli({
        AWS_CONFIG_FILE: configFile,
        LATCHKEY_METADATA_URL: metadataUrl,
        LATCHKEY_AGENT_TOKEN_FILE: tokenFile,
      });
      assert.equal(JSON.parse(viaProcess.stdout).Arn, expected);
      assert.equal(viaProcess.stderr.includes("SecretAccessKey"), false);
    });

    test("after the session ends its credentials get AccessDenied while another session on the role works", async () => {
      const ended = (await open("aws-ends")).body as Opened;
      const live = (await open("aws-lives")).body as Opened;
      const endedIam = iamAs((ended.credentials[0] as Opened["credentials"][number]).secret);
      const liveIam = iamAs((live.credentials[0] as Opened["credentials"][number]).secret);
      assert.equal(
        (await endedIam.send(new GetRoleCommand({ RoleName: "preview-artifacts" }))).Role?.RoleName,
        "preview-artifacts",
      );
      const response = await end("aws-ends");
      assert.equal(response.statusCode, 200);
      assert.deepEqual(
        response.json().credentials.map((c: { state: string }) => c.state),
        ["revoked"],
      );
      await assert.rejects(
        endedIam.send(new GetRoleCommand({ RoleName: "preview-artifacts" })),
        (error: Error) => error.name === "AccessDenied",
      );
      assert.equal(
        (await liveIam.send(new GetRoleCommand({ RoleName: "preview-artifacts" }))).Role?.RoleName,
        "preview-artifacts",
      );
      const policy = JSON.parse(
        emulator.getRolePolicy("preview-artifacts", "LatchkeyRevokedSessions") ?? "{}",
      );
      assert.ok(JSON.stringify(policy).includes('"aws-ends"'));
      assert.equal(JSON.stringify(policy).includes('"aws-lives"'), false);
    });

    test("a secret key leaked in output given to the scan endpoint is revoked with AWS", async () => {
      const leaked = (await open("aws-leak")).body as Opened;
      const bystander = (await open("aws-no-leak")).body as Opened;
      const secret = (leaked.credentials[0] as Opened["credentials"][number]).secret;
      const leakedIam = iamAs(secret);
      assert.equal(
        (await leakedIam.send(new GetRoleCommand({ RoleName: "preview-artifacts" }))).Role?.RoleName,
        "preview-artifacts",
      );
      // As a dump of the process environment would carry it: the secret key alone, inside JSON.
      const scanned = await broker.apps.api.inject({
        method: "POST",
        url: "/v1/sessions/aws-leak/scan",
        headers: { ...bearer(broker.keys.orchA), "content-type": "text/plain" },
        payload: `{"env":{"AWS_SECRET_ACCESS_KEY":${JSON.stringify(secret.SecretAccessKey)}}}\n`,
      });
      assert.equal(scanned.statusCode, 200, scanned.body);
      assert.deepEqual(
        scanned.json().revoked.map((r: { sessionId: string; state: string }) => `${r.sessionId}:${r.state}`),
        ["aws-leak:revoked"],
      );
      await assert.rejects(
        leakedIam.send(new GetRoleCommand({ RoleName: "preview-artifacts" })),
        (error: Error) => error.name === "AccessDenied",
      );
      const bystanderIam = iamAs((bystander.credentials[0] as Opened["credentials"][number]).secret);
      assert.equal(
        (await bystanderIam.send(new GetRoleCommand({ RoleName: "preview-artifacts" }))).Role?.RoleName,
        "preview-artifacts",
      );
    });

    test("errors from STS map to clear codes naming the role, never a 500", async () => {
      const untrusted = await open("aws-untrusted", ["untrusted"]);
      assert.equal(untrusted.status, 502);
      assert.equal(untrusted.body.code, "PROVIDER_DENIED");
      assert.match(untrusted.body.detail, /arn:aws:iam::123456789012:role\/untrusting \(AccessDenied\)/);
      const rows: [string, number, string][] = [
        ["ValidationError", 502, "PROVIDER_REJECTED"],
        ["MalformedPolicyDocument", 502, "PROVIDER_REJECTED"],
        ["PackedPolicyTooLarge", 502, "PROVIDER_REJECTED"],
        ["RegionDisabledException", 502, "PROVIDER_DENIED"],
        ["InvalidClientTokenId", 502, "PROVIDER_DENIED"],
        ["ExpiredToken", 502, "PROVIDER_DENIED"],
        ["SignatureDoesNotMatch", 502, "PROVIDER_DENIED"],
        ["Throttling", 503, "PROVIDER_UNAVAILABLE"],
      ];
      for (const [index, [code, status, expected]] of rows.entries()) {
        // The SDK retries throttling (3 attempts by default); the others fail once.
        emulator.failNext("AssumeRole", code, code === "Throttling" ? 3 : 1);
        const response = await open(`aws-fails-${index}`);
        assert.equal(response.status, status, `${code}: ${JSON.stringify(response.body)}`);
        assert.equal(response.body.code, expected, code);
        assert.match(response.body.detail, /preview-artifacts/);
      }
    });

    test("a failed mint leaves nothing half-open: what was minted is revoked and the id stays taken", async () => {
      const response = await open("aws-half-open", ["mixed"]);
      assert.equal(response.status, 502);
      const view = await broker.apps.api.inject({
        method: "GET",
        url: "/v1/sessions/aws-half-open",
        headers: bearer(broker.keys.orchA),
      });
      assert.equal(view.json().session.state, "ended");
      assert.equal(view.json().session.endReason, "open_failed");
      assert.deepEqual(
        view.json().credentials.map((c: { provider: string; state: string }) => `${c.provider}:${c.state}`),
        ["jwt:revoked"],
      );
      assert.equal((await open("aws-half-open", ["artifacts"])).status, 409);
    });

    test("narrowing: a narrower session policy and duration are accepted, anything wider names the field", async () => {
      await open("aws-narrow");
      const issue = (narrow: unknown) =>
        broker.apps.api.inject({
          method: "POST",
          url: "/v1/sessions/aws-narrow/credentials",
          headers: bearer(broker.keys.orchA),
          payload: { scope: "artifacts", grant: "artifacts", narrow },
        });
      const narrower = await issue({
        durationSeconds: 900,
        sessionPolicy: {
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::bucket/*" }],
        },
      });
      assert.equal(narrower.statusCode, 201, narrower.body);
      secrets.push(...Object.values(narrower.json().secret as Record<string, string>));
      const rows: [unknown, string][] = [
        [{ durationSeconds: 1800 }, "narrow.durationSeconds"],
        [
          {
            sessionPolicy: {
              Version: "2012-10-17",
              Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "*" }],
            },
          },
          "narrow.sessionPolicy.Statement[0]",
        ],
        [
          {
            sessionPolicy: {
              Version: "2012-10-17",
              Statement: [{ Effect: "Allow", NotAction: "iam:*", Resource: "*" }],
            },
          },
          "narrow.sessionPolicy.Statement[0]",
        ],
      ];
      for (const [narrow, field] of rows) {
        const response = await issue(narrow);
        assert.equal(response.statusCode, 403, response.body);
        assert.equal(response.json().code, "GRANT_WIDENING");
        assert.equal(response.json().field, field);
      }
    });

    test("a failed policy write leaves the credential revocation_pending until the background pass revokes it", async () => {
      const opened = (await open("aws-pending")).body as Opened;
      emulator.failNext("PutRolePolicy", "ServiceFailure", 1);
      const response = await end("aws-pending");
      assert.equal(response.json().pending, 1);
      assert.equal(response.json().credentials[0].state, "revocation_pending");
      assert.equal(response.json().credentials[0].revocationError, "ServiceFailure");
      const iam = iamAs((opened.credentials[0] as Opened["credentials"][number]).secret);
      assert.ok(await iam.send(new GetRoleCommand({ RoleName: "preview-artifacts" })), "not yet denied");
      // The retry is due after its back-off; the pass runs as if that time had come.
      await new Promise((resolve) => setTimeout(resolve, 5100));
      await broker.worker.tick();
      const view = await broker.apps.api.inject({
        method: "GET",
        url: "/v1/sessions/aws-pending",
        headers: bearer(broker.keys.orchA),
      });
      assert.equal(view.json().credentials[0].state, "revoked");
      await assert.rejects(
        iam.send(new GetRoleCommand({ RoleName: "preview-artifacts" })),
        (error: Error) => error.name === "AccessDenied",
      );
    });

    test("when the role's policy budget is spent, revocation falls back to an issue-time deny and says so", async () => {
      const opened = (await open("aws-budget", ["budget"])).body as Opened;
      // As if hundreds of sessions had been revoked on this role within the last hours: the
      // Deny list nearly fills the role's 10,240-character budget (white space not counted).
      const admin = new IAMClient({
        endpoint: emulator.endpoint,
        region: emulator.region,
        maxAttempts: 1,
        credentials: emulator.brokerCredentials,
      });
      const until = new Date(Math.ceil((Date.now() + 7_200_000) / 3_600_000) * 3_600_000)
        .toISOString()
        .slice(0, 13)
        .replace(/[-T]/g, "");
      const shell = (ids: string[]) =>
        JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: `LatchkeyRevokedUntil${until}`,
              Effect: "Deny",
              Action: "*",
              Resource: "*",
              Condition: { StringEquals: { "aws:SourceIdentity": ids } },
            },
          ],
        });
      const old: string[] = [];
      while (shell([...old, "old-session-0000"]).length < 10_220)
        old.push(`old-session-${String(old.length).padStart(4, "0")}`);
      await admin.send(
        new PutRolePolicyCommand({
          RoleName: "budget-role",
          PolicyName: "LatchkeyRevokedSessions",
          PolicyDocument: shell(old),
        }),
      );

      const response = await end("aws-budget");
      assert.equal(response.json().credentials[0].state, "revoked", response.body);
      const iam = iamAs((opened.credentials[0] as Opened["credentials"][number]).secret);
      await assert.rejects(
        iam.send(new GetRoleCommand({ RoleName: "budget-role" })),
        (error: Error) => error.name === "AccessDenied",
      );
      const document = emulator.getRolePolicy("budget-role", "LatchkeyRevokedSessions") ?? "";
      assert.match(document, /"aws:TokenIssueTime"/);
      assert.equal(
        document.includes("old-session-0000"),
        false,
        "the issue-time deny covers the listed sessions",
      );
      const audit = await broker.apps.api.inject({
        method: "GET",
        url: "/v1/audit?sessionId=aws-budget&action=credential.revoked",
        headers: bearer(broker.keys.auditor),
      });
      assert.match(audit.json().events[0].detail.note, /budget spent/);
    });

    test("no AWS secret appears in the logs or the audit export", async () => {
      assert.ok(secrets.length > 10);
      const exported = await broker.apps.api.inject({
        method: "GET",
        url: "/v1/audit/export",
        headers: bearer(broker.keys.auditor),
      });
      const logs = broker.logs.join("");
      for (const secret of secrets) {
        assert.equal(logs.includes(secret), false, "secret in logs");
        assert.equal(exported.body.includes(secret), false, "secret in the audit export");
      }
    });
  });
}
