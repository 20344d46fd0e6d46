// A sandbox end to end: the broker writes a session's directory; a process that sees only that
// directory (read-only, at /run/latchkey, as an unprivileged user, with nothing but the `env`
// file's variables and PATH/HOME) reaches AWS with the real SDK, GitHub with real git, and reads
// its JWT; it gets nothing of another session.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { connect, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createServer as createTlsServer } from "node:tls";
import { pathToFileURL } from "node:url";
import { type AgentClientError, getFromMetadata } from "../src/agent/client.js";
import type { Store } from "../src/store/types.js";
import type { AwsEmulator } from "./emulators/aws/index.js";
import { type GithubEmulator, startGithubEmulator } from "./emulators/github/index.js";
import { awsProviderConfig, startEmulatorWithRoles } from "./helpers/aws.js";
import { createTestBroker, type TestBroker } from "./helpers/broker.js";
import { latchkeyBin } from "./helpers/cli.js";
import { freePort } from "./helpers/net.js";
import {
  assertNoSecretsLogged,
  endSession,
  type OpenedSession,
  openSession,
  readEnvFile,
  runInSandbox,
  type SandboxRun,
  tmpfsDir,
} from "./helpers/sink.js";
import { storeFactories } from "./helpers/stores.js";

const ACCOUNT = "123456789012";
const APP_ID = 101;
const INSTALLATION = 9001;
const SANDBOX_USER = { uid: 4242, gid: 4242 };
const require = createRequire(import.meta.url);
const moduleUrl = (name: string) => pathToFileURL(require.resolve(name)).href;

/** The agent's program: GetCallerIdentity with credentials from the shared file, the container endpoint, or the SDK's own chain. */
const callerIdentityScript = `
const [mode, endpoint, region, sts, ini, http] = process.argv.slice(2);
const { STSClient, GetCallerIdentityCommand } = await import(sts);
const credentials =
  mode === "file" ? (await import(ini)).fromIni() : mode === "container" ? (await import(http)).fromHttp() : undefined;
const client = new STSClient({ endpoint, region, maxAttempts: 1, ...(credentials ? { credentials } : {}) });
const answer = await client.send(new GetCallerIdentityCommand({}));
process.stdout.write(answer.Arn);
`;

/** TLS in front of the emulator's plain-HTTP git, with a certificate made here, so git speaks https as it would to GitHub. */
async function startTlsProxy(
  dir: string,
  upstreamPort: number,
): Promise<{ port: number; caFile: string; server: Server }> {
  const keyFile = join(dir, "proxy.key");
  const caFile = join(dir, "proxy.pem");
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
      .concat(["-keyout", keyFile, "-out", caFile, "-days", "1", "-subj", "/CN=127.0.0.1"])
      .concat(["-addext", "subjectAltName=IP:127.0.0.1"]),
    { stdio: "ignore" },
  );
  const server = createTlsServer({ key: readFileSync(keyFile), cert: readFileSync(caFile) }, (socket) => {
    const upstream = connect(upstreamPort, "127.0.0.1");
    socket.pipe(upstream).pipe(socket);
    upstream.on("error", () => socket.destroy());
    socket.on("error", () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return { port: typeof address === "object" && address ? address.port : 0, caFile, server };
}

for (const factory of storeFactories()) {
  describe(`a sandbox reading its session's files (${factory.name} store)`, () => {
    let aws: AwsEmulator;
    let github: GithubEmulator;
    let proxy: Awaited<ReturnType<typeof startTlsProxy>>;
    let store: Store;
    let broker: TestBroker;
    let root: string;
    let home: string;
    let gitHost: string;
    let metadataUrl: string;
    const secrets = new Set<string>();
    const sessions = new Map<string, OpenedSession>();

    before(async () => {
      aws = await startEmulatorWithRoles("preview-artifacts");
      github = await startGithubEmulator({
        apps: [
          {
            id: APP_ID,
            slug: "latchkey-sandbox",
            installations: [
              {
                id: INSTALLATION,
                account: { login: "acme", type: "Organization" },
                repositories: ["web", "api"],
                permissions: { contents: "read", metadata: "read" },
              },
            ],
          },
        ],
      });
      home = mkdtempSync(join(tmpdir(), "latchkey-sandbox-home-"));
      proxy = await startTlsProxy(home, Number(new URL(github.baseUrl).port));
      gitHost = `127.0.0.1:${proxy.port}`;
      // The sandbox user's own git config: it trusts the proxy's certificate, nothing else.
      writeFileSync(join(home, ".gitconfig"), `[http]\n\tsslCAInfo = ${proxy.caFile}\n`);
      writeFileSync(join(home, "caller-identity.mjs"), callerIdentityScript);
      chownSync(home, SANDBOX_USER.uid, SANDBOX_USER.gid);
      const keyFile = join(home, "app.pem");
      writeFileSync(keyFile, github.app(APP_ID).privateKeyPem, { mode: 0o600 });

      store = await factory.create();
      root = tmpfsDir("e2e");
      const port = await freePort();
      metadataUrl = `http://127.0.0.1:${port}`;
      const awsConfig = awsProviderConfig(aws);
      broker = await createTestBroker({
        store,
        scopes: [
          {
            name: "agent",
            description: "What the sandboxed agent may use",
            maxTtlSeconds: 3600,
            grants: [
              {
                name: "artifacts",
                provider: "aws",
                roleArn: `arn:aws:iam::${ACCOUNT}:role/preview-artifacts`,
                durationSeconds: 900,
              },
              {
                name: "repo",
                provider: "github",
                app: "main",
                owner: "acme",
                installationId: INSTALLATION,
                repositories: ["web"],
                permissions: { contents: "read" },
              },
              { name: "api", provider: "jwt", audience: "https://api.test.example" },
            ],
          },
        ],
        config: {
          listen: { metadata: { host: "127.0.0.1", port } },
          metadataUrl,
          providers: {
            ...awsConfig.config.providers,
            github: {
              apps: { main: { appId: APP_ID, privateKeyFile: keyFile, baseUrl: github.baseUrl, gitHost } },
            },
          },
          sink: { root, ...SANDBOX_USER, unixSockets: true },
        },
        env: awsConfig.env,
      });
      await broker.apps.metadata.listen({ host: "127.0.0.1", port });
      for (const id of ["sandbox-a", "sandbox-b"])
        sessions.set(id, await openSession(broker, id, secrets, ["agent"]));
    });
    after(async () => {
      await broker.sink?.stop();
      await broker.close();
      await store.close();
      await new Promise<void>((resolve) => proxy.server.close(() => resolve()));
      await github.close();
      await aws.close();
      rmSync(root, { recursive: true, force: true });
      rmSync(home, { recursive: true, force: true });
    });

    const opened = (id: string) => {
      const session = sessions.get(id);
      assert.ok(session);
      return session;
    };
    const secretOf = (id: string, grant: string) =>
      opened(id).credentials.find((c) => c.grant === grant)?.secret ?? {};
    /** Runs a command in session `id`'s sandbox with the variables of its env file (plus PATH and HOME). */
    const sandbox = (
      id: string,
      command: string[],
      options: {
        network?: boolean;
        input?: string;
        env?: Record<string, string>;
        also?: { source: string; target: string }[];
      } = {},
    ): Promise<SandboxRun> =>
      runInSandbox({
        sessionDir: join(root, id),
        ...SANDBOX_USER,
        env: {
          ...readEnvFile(join(root, id, "env")),
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          HOME: home,
          ...options.env,
        },
        cwd: home,
        command,
        network: options.network ?? true,
        ...(options.input === undefined ? {} : { input: options.input }),
        ...(options.also ? { also: options.also } : {}),
      });
    const callerIdentity = (id: string, mode: "file" | "container" | "chain") =>
      sandbox(id, [
        process.execPath,
        join(home, "caller-identity.mjs"),
        mode,
        aws.endpoint,
        aws.region,
        moduleUrl("@aws-sdk/client-sts"),
        moduleUrl("@aws-sdk/credential-provider-ini"),
        moduleUrl("@aws-sdk/credential-provider-http"),
      ]);

    test("the env file gives the sandbox everything, in its own paths", () => {
      assert.deepEqual(readEnvFile(join(root, "sandbox-a", "env")), {
        LATCHKEY_METADATA_URL: metadataUrl,
        LATCHKEY_AGENT_TOKEN_FILE: "/run/latchkey/agent-token",
        AWS_CONTAINER_CREDENTIALS_FULL_URI: `${metadataUrl}/v1/credentials/aws/artifacts`,
        AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: "/run/latchkey/agent-token",
        AWS_SHARED_CREDENTIALS_FILE: "/run/latchkey/aws/credentials",
        GIT_CONFIG_COUNT: "1",
        GIT_CONFIG_KEY_0: "credential.helper",
        GIT_CONFIG_VALUE_0: "store --file=/run/latchkey/github/git-credentials",
      });
    });

    test("the AWS SDK reaches STS as the session: through the shared credentials file, the container endpoint, and its default chain", async () => {
      const expected = `arn:aws:sts::${ACCOUNT}:assumed-role/preview-artifacts/latchkey-sandbox-a`;
      for (const mode of ["file", "container", "chain"] as const) {
        const run = await callerIdentity("sandbox-a", mode);
        assert.equal(run.code, 0, `${mode}: ${run.stderr}`);
        assert.equal(run.stdout, expected, mode);
      }
      const ini = readFileSync(join(root, "sandbox-a", "aws", "credentials"), "utf8");
      assert.ok(
        ini.startsWith(`[default]\naws_access_key_id = ${secretOf("sandbox-a", "artifacts").AccessKeyId}\n`),
      );
    });

    test("git reaches the repository with the token from the credential-store file", async () => {
      const run = await sandbox("sandbox-a", ["git", "ls-remote", `https://${gitHost}/acme/web.git`]);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /^[0-9a-f]{40}\tHEAD\n[0-9a-f]{40}\trefs\/heads\/main\n$/);
      const token = secretOf("sandbox-a", "repo").token ?? "";
      assert.equal(
        readFileSync(join(root, "sandbox-a", "github", "git-credentials"), "utf8"),
        `https://x-access-token:${token}@${gitHost}\n`,
      );
      assert.ok(github.issuedTokens.length >= 2);
      // The token's own limits hold: a repository the grant does not name stays invisible.
      const other = await sandbox("sandbox-a", ["git", "ls-remote", `https://${gitHost}/acme/api.git`]);
      assert.notEqual(other.code, 0);
    });

    test("the JWT is read from its file", async () => {
      const run = await sandbox("sandbox-a", ["cat", "/run/latchkey/jwt/api.jwt"]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout, secretOf("sandbox-a", "api").token);
    });

    test("without a network, the sandbox reads and refreshes through its own socket only", async () => {
      const viaSocket = await sandbox(
        "sandbox-a",
        [
          process.execPath,
          latchkeyBin,
          "credential-process",
          "aws",
          "artifacts",
          "--socket",
          "/run/latchkey/latchkey.sock",
        ],
        { network: false },
      );
      assert.equal(viaSocket.code, 0, viaSocket.stderr);
      const answer = JSON.parse(viaSocket.stdout);
      assert.equal(answer.Version, 1);
      assert.equal(answer.AccessKeyId, secretOf("sandbox-a", "artifacts").AccessKeyId);
      const viaNetwork = await sandbox(
        "sandbox-a",
        [process.execPath, latchkeyBin, "credential-process", "aws", "artifacts"],
        { network: false },
      );
      assert.equal(viaNetwork.code, 1);
      assert.match(viaNetwork.stderr, /cannot reach the metadata endpoint/);
      const git = await sandbox(
        "sandbox-a",
        [process.execPath, latchkeyBin, "git-credential", "get", "--socket", "/run/latchkey/latchkey.sock"],
        { network: false, input: `protocol=https\nhost=${gitHost}\n\n` },
      );
      assert.equal(git.code, 0, git.stderr);
      assert.match(
        git.stdout,
        new RegExp(`^username=x-access-token\npassword=${secretOf("sandbox-a", "repo").token}\n`),
      );
    });

    test("another session's socket refuses this session's token, even when it is in view", async () => {
      const run = await sandbox(
        "sandbox-a",
        [
          process.execPath,
          latchkeyBin,
          "credential-process",
          "aws",
          "artifacts",
          "--socket",
          "/run/other.sock",
        ],
        {
          network: false,
          also: [{ source: join(root, "sandbox-b", "latchkey.sock"), target: "/run/other.sock" }],
        },
      );
      assert.equal(run.code, 1);
      assert.equal(
        run.stderr,
        "latchkey credential-process: UNAUTHENTICATED: The agent token is not valid for an active session.\n",
      );
      assert.equal(run.stdout, "");
    });

    test("the sandbox sees no other session's directory, and another user cannot read this one", async () => {
      const looking = await sandbox("sandbox-a", [
        "sh",
        "-c",
        `ls -A /dev/shm /run/latchkey; cat ${join(root, "sandbox-b", "agent-token")}`,
      ]);
      assert.notEqual(looking.code, 0);
      assert.equal(
        looking.stdout,
        "/dev/shm:\n\n/run/latchkey:\nagent-token\naws\nenv\ngithub\njwt\nlatchkey.sock\nmanifest.json\n",
      );
      assert.match(looking.stderr, /No such file or directory/);
      const stranger = await runInSandbox({
        sessionDir: join(root, "sandbox-a"),
        uid: 65534,
        gid: 65534,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
        cwd: "/",
        command: ["cat", "/run/latchkey/agent-token"],
        network: false,
      });
      assert.notEqual(stranger.code, 0);
      assert.match(stranger.stderr, /Permission denied/);
      assert.equal(stranger.stdout, "");
    });

    test("once its session ended, another session's token gets nothing, and its files are gone", async () => {
      const bToken = opened("sandbox-b").agentToken;
      await endSession(broker, "sandbox-b");
      assert.deepEqual(
        readFileSync(join(root, "sandbox-a", "agent-token"), "utf8"),
        opened("sandbox-a").agentToken,
        "the live session is untouched",
      );
      const run = await sandbox(
        "sandbox-a",
        [process.execPath, latchkeyBin, "credential-process", "aws", "artifacts"],
        { env: { LATCHKEY_AGENT_TOKEN_FILE: "", LATCHKEY_AGENT_TOKEN: bToken } },
      );
      assert.equal(run.code, 1);
      assert.match(run.stderr, /UNAUTHENTICATED/);
      const container = await sandbox(
        "sandbox-a",
        [process.execPath, join(home, "caller-identity.mjs"), "container", aws.endpoint, aws.region]
          .concat([moduleUrl("@aws-sdk/client-sts"), moduleUrl("@aws-sdk/credential-provider-ini")])
          .concat([moduleUrl("@aws-sdk/credential-provider-http")]),
        { env: { AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: "", AWS_CONTAINER_AUTHORIZATION_TOKEN: bToken } },
      );
      assert.notEqual(container.code, 0);
      assert.equal(container.stdout, "");
      await assert.rejects(
        getFromMetadata({ url: metadataUrl, token: bToken }, "v1/credentials"),
        (error: AgentClientError) => error.code === "UNAUTHENTICATED",
      );
      assert.throws(() => readFileSync(join(root, "sandbox-b", "env")), /ENOENT/);
    });

    test("no secret reached the logs or the audit export", async () => {
      await endSession(broker, "sandbox-a");
      await assertNoSecretsLogged(broker, secrets);
    });
  });
}
