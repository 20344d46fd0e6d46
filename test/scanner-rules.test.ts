import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { describe, test } from "node:test";
import { createScanner } from "../src/scanner/engine.js";
import { awsAccountIdOf } from "../src/scanner/rules/aws-access-key.js";
import { defaultRules, type Rule } from "../src/scanner/rules/index.js";
import { ALNUM, BASE64URL, badChecksum, checksummed, HEX, pieces, Rng, tokens } from "./scanner/tokens.js";

const rng = new Rng(424242);

function rule(id: string): Rule {
  const found = defaultRules.find((r) => r.id === id);
  assert.ok(found, id);
  return found;
}

/** What the rule alone reports in `input`: the matched text and severity of each finding. */
async function run(id: string, input: string, awsAccounts: string[] = []) {
  const bytes = Buffer.from(input);
  const { findings } = await createScanner({ rules: [rule(id)], awsAccounts }).scan(bytes);
  return findings.map((f) => ({
    text: bytes.subarray(f.offset, f.offset + f.length).toString(),
    severity: f.severity,
    finding: f,
  }));
}

interface Row {
  name: string;
  input: string;
  /** The secrets expected, in order; empty for a negative row. */
  expect: string[];
}

const positive = (name: string, secret: string, before = "value: ", after = "\n"): Row => ({
  name,
  input: `${before}${secret}${after}`,
  expect: [secret],
});
const negative = (name: string, input: string): Row => ({ name, input, expect: [] });

const rsa = generateKeyPairSync("rsa", {
  modulusLength: 1024,
  privateKeyEncoding: { type: "pkcs1", format: "pem" },
  publicKeyEncoding: { type: "spki", format: "pem" },
});
const ec = generateKeyPairSync("ec", {
  namedCurve: "P-256",
  privateKeyEncoding: { type: "sec1", format: "pem" },
  publicKeyEncoding: { type: "spki", format: "pem" },
});
const ed = generateKeyPairSync("ed25519", {
  privateKeyEncoding: { type: "pkcs8", format: "pem" },
  publicKeyEncoding: { type: "spki", format: "pem" },
});
const trimmed = (pem: string) => pem.trimEnd();

const classicBody = checksummed(rng);
const serviceAccount = JSON.parse(tokens.serviceAccount(rng)) as Record<string, string>;
const keyValue = (document: string) => {
  const start = document.indexOf('"-----') + 1;
  return document.slice(start, document.indexOf('"', start));
};
const jwtParts = (header: unknown, signature: string) =>
  `${Buffer.from(JSON.stringify(header)).toString("base64url")}.${Buffer.from('{"sub":"x"}').toString("base64url")}.${signature}`;

const table: Record<string, Row[]> = {
  "github-token": [
    positive("ghp", `ghp_${classicBody}`),
    positive("gho in JSON", tokens.githubClassic(rng, "gho"), '{"token":"', '"}'),
    positive("ghu", tokens.githubClassic(rng, "ghu")),
    positive(
      "ghs in a git URL",
      tokens.githubClassic(rng, "ghs"),
      "https://x-access-token:",
      "@github.com/a/b",
    ),
    positive("ghr at end of input", tokens.githubClassic(rng, "ghr"), "refresh=", ""),
    positive("stateless ghs", tokens.githubStateless(rng), "GH_TOKEN=", " "),
    positive("fine-grained", tokens.githubFineGrained(rng)),
    negative("wrong checksum", `token ghp_${badChecksum(rng)}\n`),
    negative("35 characters", `token ghp_${classicBody.slice(1)}\n`),
    negative("37 characters", `token ghp_${classicBody}x\n`),
    negative("inside a longer word", `xghp_${classicBody}\n`),
    negative("unknown prefix", `ghx_${classicBody}\n`),
    negative("stateless too short", "ghs_abc.def.ghi\n"),
    negative("fine-grained too short", `github_pat_${rng.chars(ALNUM, 81)}\n`),
  ],
  "npm-token": [
    positive("npmrc", tokens.npm(rng), "//registry.npmjs.org/:_authToken="),
    negative("wrong checksum", `npm_${badChecksum(rng)}\n`),
    negative("too short", `npm_${checksummed(rng).slice(2)}\n`),
    negative("package name", "npm_config_cache=/tmp/npm_cache\n"),
  ],
  "aws-access-key-id": [
    positive("AKIA", tokens.awsKeyId(rng), "aws_access_key_id = "),
    positive("ASIA in JSON", tokens.awsKeyId(rng, "ASIA"), '{"AccessKeyId":"', '"}'),
    negative("lowercase", `${tokens.awsKeyId(rng).toLowerCase()}\n`),
    negative("not base32", `AKIA${rng.chars("01890189", 16)}\n`),
    negative("15 characters", `${tokens.awsKeyId(rng).slice(0, 19)}\n`),
    negative("inside a longer id", `X${tokens.awsKeyId(rng)}Y\n`),
    negative("unknown prefix", `AKIB${rng.chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)}\n`),
  ],
  "aws-secret-access-key": [
    positive("credentials file", tokens.awsSecretKey(rng), "[default]\naws_secret_access_key = "),
    positive("next to a key id", tokens.awsSecretKey(rng), `${tokens.awsKeyId(rng)}:`),
    positive("container credentials JSON", tokens.awsSecretKey(rng), '{"SecretAccessKey": "', '"}'),
    negative("no keyword near", `${"filler ".repeat(60)}${tokens.awsSecretKey(rng)}\n`),
    negative(
      "keyword too far",
      `aws_secret_access_key\n${"filler ".repeat(60)}${tokens.awsSecretKey(rng)}\n`,
    ),
    negative("git commit id", `aws_secret_access_key = ${rng.chars(HEX, 40)}\n`),
    negative("documented example", `aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCY${"EXAMPLE"}KEY\n`),
    negative("41 characters", `aws_secret_access_key = ${tokens.awsSecretKey(rng)}x\n`),
    negative("one character repeated", `aws_secret_access_key = ${"A".repeat(40)}\n`),
  ],
  "private-key": [
    positive("generated RSA (PKCS#1)", trimmed(rsa.privateKey)),
    positive("generated EC (SEC1)", trimmed(ec.privateKey)),
    positive("generated Ed25519 (PKCS#8)", trimmed(ed.privateKey)),
    positive("flattened onto one line", trimmed(rsa.privateKey).replaceAll("\n", " "), "KEY='", "'"),
    positive("escaped in JSON", JSON.stringify(trimmed(ec.privateKey)).slice(1, -1), '{"key":"', '"}'),
    positive("escaped twice", trimmed(ed.privateKey).replaceAll("\n", "\\\\n"), '"{\\"k\\":\\"', '\\"}"'),
    positive("CRLF", trimmed(rsa.privateKey).replaceAll("\n", "\r\n")),
    positive("OpenSSH", tokens.opensshKey(rng)),
    negative("public key", rsa.publicKey),
    negative(
      "body does not start like a key",
      `${pieces.pemBegin("RSA ")}\n${"A".repeat(64)}\n${pieces.pemEnd("RSA ")}\n`,
    ),
    negative("no END line", trimmed(rsa.privateKey).split("\n").slice(0, -1).join("\n")),
    negative(
      "END label differs",
      trimmed(rsa.privateKey).replace(pieces.pemEnd("RSA "), pieces.pemEnd("EC ")),
    ),
    negative("body too short", `${pieces.pemBegin("")}\nMIIBVQ==\n${pieces.pemEnd("")}\n`),
    negative("documentation placeholder", `${pieces.pemBegin("")}\n...\n${pieces.pemEnd("")}\n`),
  ],
  "google-service-account": [
    serviceAccountRow("pretty printed", tokens.serviceAccount(rng)),
    serviceAccountRow("compact", JSON.stringify(serviceAccount)),
    negative("no client_email", JSON.stringify({ ...serviceAccount, client_email: undefined })),
    negative("another type", JSON.stringify({ ...serviceAccount, type: "authorized_user" })),
    negative("no key in the private_key", JSON.stringify({ ...serviceAccount, private_key: "redacted" })),
  ],
  jwt: [
    positive("bearer", tokens.jwt(rng), "Authorization: Bearer "),
    positive("alg none, empty signature", jwtParts({ alg: "none" }, ""), "id_token=", " "),
    positive("in JSON", tokens.jwt(rng, { alg: "RS256", kid: "abc" }), '{"t":"', '"}'),
    negative(
      "header is not JSON",
      `eyJ${rng.chars(BASE64URL, 20)}.${rng.chars(BASE64URL, 30)}.${rng.chars(BASE64URL, 20)}\n`,
    ),
    negative("header without alg", `${jwtParts({ typ: "JWT" }, rng.chars(BASE64URL, 43))}\n`),
    negative("two parts", `${tokens.jwt(rng).split(".").slice(0, 2).join(".")}\n`),
    negative("inside base64", `${rng.chars(ALNUM, 20)}${tokens.jwt(rng)}\n`),
  ],
  "slack-token": [
    positive("bot", tokens.slackBot(rng), "SLACK_BOT_TOKEN="),
    positive("user", tokens.slackUser(rng)),
    positive("app-level", tokens.slackApp(rng)),
    positive("webhook", tokens.slackWebhook(rng), "curl ", " -d @m.json"),
    negative("greeting", "xoxo-hugs-and-kisses from the team\n"),
    negative("no digits", "xoxb-not-a-real-token-at-all\n"),
    negative("webhook secret too short", "https://hooks.slack.com/services/T0000000/B0000000/abc\n"),
  ],
  "stripe-key": [
    positive("live secret", tokens.stripe(rng, "sk_live")),
    positive("live restricted", tokens.stripe(rng, "rk_live")),
    positive("test", tokens.stripe(rng, "sk_test")),
    negative("publishable", `pk_live_${rng.chars(ALNUM, 24)}\n`),
    negative("too short", "sk_live_abc123\n"),
    negative("inside a word", `mask_live_${rng.chars(ALNUM, 24)}\n`),
  ],
  "openai-key": [
    positive("project", tokens.openai(rng, "proj"), "OPENAI_API_KEY="),
    positive("service account", tokens.openai(rng, "svcacct")),
    positive("legacy", tokens.openai(rng, "legacy")),
    negative(
      "marker without the prefix",
      `${rng.chars(ALNUM, 40)}${pieces.openaiMarker}${rng.chars(ALNUM, 40)}\n`,
    ),
    negative(
      "legacy, wrong length",
      `sk-${rng.chars(ALNUM, 19)}${pieces.openaiMarker}${rng.chars(ALNUM, 20)}\n`,
    ),
    negative("inside a longer run", `x${tokens.openai(rng, "legacy")}\n`),
  ],
  "anthropic-key": [
    positive("api", tokens.anthropic(rng), "ANTHROPIC_API_KEY="),
    positive("admin", tokens.anthropic(rng, "admin01")),
    negative("no AA suffix", `sk-ant-api03-${rng.chars(BASE64URL, 93)}BB\n`),
    negative("one character short", `sk-ant-api03-${rng.chars(BASE64URL, 92)}AA\n`),
    negative("unknown version", `sk-ant-api02-${rng.chars(BASE64URL, 93)}AA\n`),
  ],
  "generic-secret": [
    positive("env password", "Zq8#vR2!mW9xK4pL7tY", "DB_PASSWORD="),
    positive("quoted api_key", "a8Fk2LmQ9zXr4TbN7wYc", 'api_key: "', '"'),
    positive("JSON client_secret", "kY7-Rz2QmX9vLp4WtB8nF3s", '{"client_secret": "', '"}'),
    positive("Go-style assignment", "t0K3n-V4lue-9QzX", 'authToken := "', '"'),
    positive("starting with a percent sign", "%-E8bFhcenoYB_l3M", "DB_PASSWORD="),
    positive("URL query", `${rng.chars(ALNUM, 32)}`, "GET /hook?token=", "&id=1"),
    negative("placeholder", "password=changeme\n"),
    negative("variable", `password=\${DB_PASSWORD}\n`),
    negative("Windows variable", "password=%DB_PASSWORD%\n"),
    negative("angle placeholder", "api_key: <your-api-key>\n"),
    negative("masked", "token: xxxxxxxxxxxxxxxx\n"),
    negative("example", "secret: example-secret-123\n"),
    negative("low entropy", "password=aaaaaaaabbbbbbbb1\n"),
    negative("identifier", "secretName: my-app-credentials\n"),
    negative("UUID", `session_token=${"0f8fad5b-d9cb-469f-a165-70867728950e"}\n`),
    negative("lookup", 'token = os.environ["TOKEN"]\n'),
    negative("property path", "const apiKey = env.LATCHKEY_API_KEY;\n"),
    negative("sequential filler", 'secret = "0123456789abcdefghij"\n'),
    negative("too short", "pwd=Ab1!\n"),
    negative("number", "max_tokens: 409600000\n"),
    negative("checked format with a wrong checksum", `GITHUB_TOKEN=ghp_${badChecksum(rng)}\n`),
  ],
};

function serviceAccountRow(name: string, document: string): Row {
  const value = keyValue(document);
  const at = document.indexOf(value);
  return positive(name, value, document.slice(0, at), document.slice(at + value.length));
}

describe("rules, table-driven", () => {
  test("every rule has a table", () => {
    assert.deepEqual(Object.keys(table).sort(), defaultRules.map((r) => r.id).sort());
  });
  for (const [id, rows] of Object.entries(table)) {
    for (const row of rows) {
      test(`${id}: ${row.expect.length > 0 ? "finds" : "ignores"} ${row.name}`, async () => {
        const found = await run(id, row.input);
        assert.deepEqual(
          found.map((f) => f.text),
          row.expect,
        );
      });
    }
  }

  test("Stripe test keys are low severity, live keys high", async () => {
    const found = await run(
      "stripe-key",
      `${tokens.stripe(rng, "sk_test")} ${tokens.stripe(rng, "rk_live")}`,
    );
    assert.deepEqual(
      found.map((f) => f.severity),
      ["low", "high"],
    );
  });

  test("AWS key ids: the account is decoded offline", async () => {
    // The published examples, assembled so that no literal key id sits in the source.
    assert.equal(awsAccountIdOf(`ASIA${"Y34FZKBOKMUTVV7A"}`), "609629065308");
    assert.equal(awsAccountIdOf(`AKIA${"YVP4CIPPERUVIFXG"}`), "595918472158");
    assert.equal(
      awsAccountIdOf(`AKIA${"IOSFODNN7EXAMPLE"}`),
      undefined,
      "old-generation ids carry no account",
    );
    const key = tokens.awsKeyId(rng, "AKIA", "000123456789");
    const [found] = await run("aws-access-key-id", `${key}\n`, ["000123456789"]);
    assert.equal(found?.finding.awsAccountId, "000123456789");
    assert.equal(found?.finding.accountKnown, true);
    assert.equal(found?.severity, "high");
    const [old] = await run("aws-access-key-id", `AKIA${"IOSFODNN7EXAMPLE"}\n`);
    assert.equal(old?.finding.awsAccountId, undefined);
  });
});

/** Inputs that would make a backtracking or rescanning rule take minutes. */
const worstCases: Record<string, string[]> = {
  "github-token": [
    "ghs_".repeat(2 ** 18),
    `ghs_${"a".repeat(2 ** 20)}`,
    "ghs_a.b".repeat(2 ** 17),
    "github_pat_".repeat(2 ** 16),
  ],
  "npm-token": ["npm_".repeat(2 ** 18), `npm_${"A".repeat(2 ** 20)}`],
  "aws-access-key-id": ["AKIA".repeat(2 ** 18), `AKIA${"A".repeat(2 ** 20)}`],
  "aws-secret-access-key": [
    `aws_secret ${"A".repeat(2 ** 20)}`,
    `${"AKIA".repeat(10)}${"a".repeat(39)} `.repeat(2 ** 13),
  ],
  "private-key": [
    "PRIVATE KEY-----".repeat(2 ** 16),
    `${pieces.pemBegin("")}MI${"A".repeat(2 ** 20)}`,
    `${pieces.pemBegin("")}\nMI${"A".repeat(12_000)}\n`.repeat(80),
    `${pieces.pemBegin("")}\nMI${"\\\\\\n".repeat(2 ** 18)}`,
  ],
  "google-service-account": [
    '"type": "service_account", "private_key": "-----", "client_email": "a@b", '.repeat(2 ** 14),
    `"type": "service_account", "private_key": "${"\\\\".repeat(2 ** 19)}`,
  ],
  jwt: [
    "eyJ".repeat(2 ** 18),
    `eyJ${"a".repeat(2 ** 20)}`,
    "eyJhbGciOi.".repeat(2 ** 16),
    `eyJa.${"b".repeat(2 ** 20)}`,
  ],
  "slack-token": [
    "xoxb-".repeat(2 ** 17),
    `xoxb-${"1-".repeat(2 ** 19)}`,
    "hooks.slack.com/services/T".repeat(2 ** 15),
  ],
  "stripe-key": ["sk_live_".repeat(2 ** 17), `sk_live_${"a".repeat(2 ** 20)}`],
  "openai-key": [pieces.openaiMarker.repeat(2 ** 17), `sk-proj-${"a".repeat(2 ** 20)}${pieces.openaiMarker}`],
  "anthropic-key": ["sk-ant-api03-".repeat(2 ** 16), `sk-ant-api03-${"A".repeat(2 ** 20)}`],
  "generic-secret": [
    "token=".repeat(2 ** 17),
    "password".repeat(2 ** 17),
    `token=${"a".repeat(2 ** 20)}`,
    `secret: ${"Ab1".repeat(2 ** 18)}`,
    "api_key".repeat(2 ** 17),
  ],
};

describe("rules, worst-case inputs", () => {
  test("every rule has worst cases", () => {
    assert.deepEqual(Object.keys(worstCases).sort(), defaultRules.map((r) => r.id).sort());
  });
  for (const [id, inputs] of Object.entries(worstCases)) {
    test(`${id}: 1 MB of near-misses in bounded work`, async (t) => {
      const scanner = createScanner({ rules: [rule(id)] });
      for (const input of inputs) {
        const bytes = Buffer.from(input);
        const started = performance.now();
        const { stats } = await scanner.scan(bytes);
        const seconds = (performance.now() - started) / 1000;
        t.diagnostic(`${bytes.length} bytes, ${stats.keywordHits} keyword hits, ${seconds.toFixed(2)} s`);
        assert.ok(stats.keywordHits > 0);
        // Linear rules take a fraction of a second here; a backtracking one would take minutes.
        assert.ok(seconds < 20, `${seconds} s`);
      }
    });
  }
});
