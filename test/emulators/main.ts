// `npm run emulators -- --config-out FILE`: starts the AWS (STS + IAM) and GitHub emulators,
// preloaded with what the example scopes in scopes/ name, writes a broker config that points
// every provider at them, prints one JSON line with their endpoints, and runs until stopped.
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { stringify } from "yaml";
import { sha256Hex } from "../../src/crypto/hash.js";
import { generateSigningKeyFile } from "../../src/providers/jwt/keys.js";
import { startAwsEmulator } from "./aws/index.js";
import { startGithubEmulator } from "./github/index.js";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: { "config-out": { type: "string" }, help: { type: "boolean", short: "h" } },
  strict: true,
});
if (values.help || !values["config-out"]) {
  process.stderr.write("Usage: npm run emulators -- --config-out FILE\n");
  process.exit(values.help ? 0 : 2);
}
const configPath = resolve(values["config-out"]);
const dir = dirname(configPath);
mkdirSync(dir, { recursive: true });
const secretFile = (name: string, content: string) => {
  const path = join(dir, name);
  writeFileSync(path, content, { mode: 0o600 });
  return path;
};

// What the example scopes name: account 123456789012 with two roles, and the GitHub app
// `main` installed on `acme` with the web and api repositories.
const aws = await startAwsEmulator({
  accountId: "123456789012",
  roles: [
    { name: "preview-artifacts", maxSessionDurationSeconds: 3600 },
    { name: "artifact-reader", maxSessionDurationSeconds: 3600 },
  ],
});
const github = await startGithubEmulator({
  apps: [
    {
      id: 1001,
      slug: "latchkey-main",
      installations: [
        {
          id: 5001,
          account: { login: "acme", type: "Organization" },
          repositories: ["web", "api"],
          permissions: { contents: "write", pull_requests: "write", metadata: "read" },
        },
      ],
    },
  ],
});

let apiKey = process.env.LATCHKEY_DEV_KEY;
if (!apiKey) {
  apiKey = `lk_dev_${randomBytes(24).toString("base64url")}`;
  process.stderr.write(`API key for this config (shown once, all roles): ${apiKey}\n`);
}
const app = github.app(1001);
const config = {
  store: { kind: "memory" },
  scopesDir: join(repoRoot, "scopes"),
  clients: [{ id: "dev", role: "admin", keySha256: sha256Hex(apiKey), scopes: ["*"] }],
  encryption: {
    keys: [
      {
        id: "emulators",
        file: secretFile(
          "encryption.jwk",
          `${JSON.stringify({ kty: "oct", k: randomBytes(32).toString("base64url") })}\n`,
        ),
      },
    ],
  },
  signing: { keys: [{ file: secretFile("signing.jwk", await generateSigningKeyFile("ES256")) }] },
  providers: {
    aws: {
      region: aws.region,
      endpoint: aws.endpoint,
      credentials: {
        file: secretFile("aws-broker-credentials.json", `${JSON.stringify(aws.brokerCredentials)}\n`),
      },
    },
    github: {
      apps: {
        main: {
          appId: app.id,
          privateKeyFile: secretFile("github-app.pem", app.privateKeyPem),
          baseUrl: github.baseUrl,
          gitHost: github.host,
        },
      },
    },
  },
};
writeFileSync(configPath, stringify(config), { mode: 0o600 });
process.stdout.write(
  `${JSON.stringify({ aws: { endpoint: aws.endpoint, accountId: aws.accountId }, github: { baseUrl: github.baseUrl }, config: configPath })}\n`,
);

const stop = async () => {
  await Promise.allSettled([aws.close(), github.close()]);
  process.exit(0);
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
