// A labelled corpus for the scanner: realistic filler (logs, JSON, diffs, base64 blobs, prose),
// decoys that look like secrets and are not (git hashes, digests, UUIDs, placeholders, tokens with
// a wrong checksum, public keys), generic secrets of every rule, and issued secrets in every
// encoding. Everything comes from a seeded PRNG, so a failure reproduces.

import { buildMatchers, type IssuedMatcher } from "../../src/scanner/matchers.js";
import { ALNUM, BASE64, badChecksum, DIGITS, HEX, LOWER, pieces, Rng, tokens } from "./tokens.js";

export interface Planted {
  /** The rule expected to report it ("latchkey-issued" for issued secrets). */
  ruleId: string;
  label: string;
  start: number;
  end: number;
  /** The planted bytes (an encoded form, for issued secrets). */
  text: string;
  credentialId?: string;
}

export interface IssuedSecret {
  credentialId: string;
  kind: string;
  secret: string;
}

export interface Corpus {
  bytes: Buffer;
  planted: Planted[];
  issued: IssuedSecret[];
  matchers: IssuedMatcher[];
  decoys: number;
}

const WORDS =
  "the a of to and in is for on with build deploy request response user session cache worker queue retry timeout connection server client config value error warning info debug latency shard replica upload download artifact commit branch merge review pipeline stage job step container image layer volume mount network route handler middleware token bucket password reset secret rotation policy key vault".split(
    " ",
  );

const uuid = (rng: Rng) =>
  `${rng.chars(HEX, 8)}-${rng.chars(HEX, 4)}-4${rng.chars(HEX, 3)}-a${rng.chars(HEX, 3)}-${rng.chars(HEX, 12)}`;

function sentence(rng: Rng): string {
  const words = Array.from({ length: rng.between(6, 18) }, () => rng.pick(WORDS));
  return `${words.join(" ")}.`;
}

function timestamp(rng: Rng): string {
  return `2026-11-${String(rng.between(1, 28)).padStart(2, "0")}T${String(rng.int(24)).padStart(2, "0")}:${String(rng.int(60)).padStart(2, "0")}:${String(rng.int(60)).padStart(2, "0")}.${rng.chars(DIGITS, 3)}Z`;
}

function base64Blob(rng: Rng, bytes: number): string {
  return (
    rng
      .bytes(bytes)
      .toString("base64")
      .match(/.{1,76}/g) ?? []
  ).join("\n");
}

/** Ordinary agent output, with the hashes and ids that trip naive scanners. */
export function fillerLine(rng: Rng): string {
  switch (rng.int(9)) {
    case 0:
      return `${timestamp(rng)} INFO  [worker-${rng.int(16)}] request_id=${uuid(rng)} method=${rng.pick(["GET", "POST", "PUT"])} path=/api/v1/${rng.pick(WORDS)}/${rng.int(10000)} status=${rng.pick([200, 201, 204, 404, 500])} duration_ms=${rng.int(900)}`;
    case 1:
      return JSON.stringify({
        ts: timestamp(rng),
        level: rng.pick(["debug", "info", "warn"]),
        msg: sentence(rng),
        trace_id: rng.chars(HEX, 32),
        digest: `sha256:${rng.chars(HEX, 64)}`,
        commit: rng.chars(HEX, 40),
      });
    case 2:
      return [
        `diff --git a/src/${rng.pick(WORDS)}.ts b/src/${rng.pick(WORDS)}.ts`,
        `index ${rng.chars(HEX, 7)}..${rng.chars(HEX, 7)} 100644`,
        `@@ -${rng.int(400)},7 +${rng.int(400)},8 @@ export function ${rng.pick(WORDS)}() {`,
        `-  const ${rng.pick(WORDS)} = await fetch(url, { timeout: ${rng.int(5000)} });`,
        `+  const ${rng.pick(WORDS)} = await fetch(url, { timeout: ${rng.int(5000)}, retries: ${rng.int(5)} });`,
        `   // ${sentence(rng)}`,
      ].join("\n");
    case 3:
      return `attachment ${uuid(rng)}.bin:\n${base64Blob(rng, rng.between(100, 900))}`;
    case 4:
      return `commit ${rng.chars(HEX, 40)}\nAuthor: ci <ci@build.invalid>\n\n    ${sentence(rng)}`;
    case 5:
      return `${rng.chars(HEX, 64)}  dist/${rng.pick(WORDS)}-${rng.between(1, 9)}.${rng.int(20)}.${rng.int(20)}.tgz`;
    case 6:
      return `  ${rng.pick(WORDS)}_${rng.pick(WORDS)}: ${rng.pick([String(rng.int(5000)), `"${rng.pick(WORDS)}"`, "true", uuid(rng)])}`;
    case 7:
      return `Step ${rng.int(30)}/30 : RUN npm ci && npm run build  ---> ${rng.chars(HEX, 12)} (${rng.chars(LOWER + DIGITS, 12)})`;
    default:
      return sentence(rng);
  }
}

/** Things that look like secrets and must not be reported. */
function decoy(rng: Rng): string {
  const keyId = tokens.awsKeyId(rng);
  switch (rng.int(22)) {
    case 0:
      return "password=changeme";
    case 1:
      return `DB_PASSWORD=\${DB_PASSWORD}`;
    case 2:
      return "api_key: <your-api-key-here>";
    case 3:
      return `token: ${"x".repeat(rng.between(16, 40))}`;
    case 4:
      return `secret = "example-secret-value-${rng.int(100)}"`;
    case 5:
      return `  max_tokens: ${rng.int(8192)}\n  token_count=${rng.int(100000)}`;
    case 6:
      return `export AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY`;
    case 7:
      return `GITHUB_TOKEN=ghp_${badChecksum(rng)}`;
    case 8:
      return `//registry.npmjs.org/:_authToken=npm_${badChecksum(rng)}`;
    case 9:
      return `key id ${keyId.slice(0, 4)}${keyId.slice(4).toLowerCase()} and ${keyId.slice(0, 19)}`;
    case 10:
      return `bearer eyJub3QtanNvbg.${rng.chars(ALNUM, 30)}.${rng.chars(ALNUM, 20)}`;
    case 11:
      return `STRIPE_PUBLISHABLE_KEY=pk_live_${rng.chars(ALNUM, 24)} and sk_live_short`;
    case 12:
      return `-----BEGIN PUBLIC KEY-----\n${base64Blob(rng, 160).replace(/^../, "MI")}\n-----END PUBLIC KEY-----`;
    case 13:
      return `${pieces.pemBegin("")}\n${"A".repeat(64)}\n${base64Blob(rng, 200)}\n${pieces.pemEnd("")}`;
    case 14:
      return `xoxo-hugs-from-the-team and xoxb-not-a-token`;
    case 15:
      return `blob ${rng.chars(BASE64, 40)}${pieces.openaiMarker}${rng.chars(BASE64, 40)}`;
    case 16:
      return `password: "${"*".repeat(12)}"\npassword_hash = ${rng.chars(HEX, 8)}`;
    case 17:
      return `aws-cli/2.15.${rng.int(40)} Python/3.11 commit ${rng.chars(HEX, 40)} id ${uuid(rng)}`;
    case 18:
      return `secretName: ${rng.pick(WORDS)}-${rng.pick(WORDS)}-credentials`;
    case 19:
      return `token = os.environ["API_TOKEN"]\npassword = getpass()`;
    case 20:
      return `{"type": "service_account_ref", "project_id": "p-${rng.chars(DIGITS, 6)}"}`;
    default:
      return `pwd=/home/runner/work/${rng.pick(WORDS)}/${rng.pick(WORDS)}`;
  }
}

interface GenericPlant {
  ruleId: string;
  label: string;
  make(rng: Rng): { before: string; secret: string; after: string };
}

const plain = (before: string, secret: string, after = "") => ({ before, secret, after });

/** Every generic rule, in the contexts agents leave them. */
const GENERIC: GenericPlant[] = [
  {
    ruleId: "github-token",
    label: "ghp",
    make: (r) => plain("export GITHUB_TOKEN=", tokens.githubClassic(r)),
  },
  {
    ruleId: "github-token",
    label: "gho",
    make: (r) => plain('{"access_token":"', tokens.githubClassic(r, "gho"), '"}'),
  },
  {
    ruleId: "github-token",
    label: "ghu/ghr",
    make: (r) => plain("refresh: ", tokens.githubClassic(r, r.pick(["ghu", "ghr"]))),
  },
  {
    ruleId: "github-token",
    label: "ghs in git url",
    make: (r) => plain("https://x-access-token:", tokens.githubClassic(r, "ghs"), "@github.com/acme/web.git"),
  },
  {
    ruleId: "github-token",
    label: "ghs stateless",
    make: (r) => plain("GH_TOKEN=", tokens.githubStateless(r)),
  },
  { ruleId: "github-token", label: "github_pat", make: (r) => plain("token: ", tokens.githubFineGrained(r)) },
  {
    ruleId: "npm-token",
    label: "npmrc",
    make: (r) => plain("//registry.npmjs.org/:_authToken=", tokens.npm(r)),
  },
  {
    ruleId: "aws-access-key-id",
    label: "AKIA",
    make: (r) => plain("aws_access_key_id = ", tokens.awsKeyId(r)),
  },
  {
    ruleId: "aws-access-key-id",
    label: "ASIA json",
    make: (r) =>
      plain('{"AccessKeyId": "', tokens.awsKeyId(r, "ASIA"), '", "Expiration": "2026-11-27T04:00:00Z"}'),
  },
  {
    ruleId: "aws-secret-access-key",
    label: "credentials file",
    make: (r) => plain("[default]\naws_secret_access_key = ", tokens.awsSecretKey(r), "\nregion = eu-west-1"),
  },
  {
    ruleId: "aws-secret-access-key",
    label: "env",
    make: (r) => plain("AWS_SECRET_ACCESS_KEY=", tokens.awsSecretKey(r)),
  },
  {
    ruleId: "aws-secret-access-key",
    label: "json",
    make: (r) => plain('{"SecretAccessKey": "', tokens.awsSecretKey(r), '"}'),
  },
  {
    ruleId: "private-key",
    label: "rsa lines",
    make: (r) => plain("key:\n", tokens.pem(r, "RSA ", "lines"), "\n"),
  },
  { ruleId: "private-key", label: "ec flat", make: (r) => plain("KEY=", tokens.pem(r, "EC ", "flat")) },
  {
    ruleId: "private-key",
    label: "pkcs8 escaped",
    make: (r) => plain('{"key": "', tokens.pem(r, "", "escaped"), '\\n"}'),
  },
  {
    ruleId: "private-key",
    label: "openssh",
    make: (r) => plain("id_ed25519:\n", tokens.opensshKey(r), "\n"),
  },
  {
    ruleId: "jwt",
    label: "bearer",
    make: (r) => plain("Authorization: Bearer ", tokens.jwt(r)),
  },
  {
    ruleId: "jwt",
    label: "json",
    make: (r) => plain('{"id_token": "', tokens.jwt(r, { alg: "RS256", kid: r.chars(HEX, 8) }), '"}'),
  },
  { ruleId: "slack-token", label: "bot", make: (r) => plain("SLACK_BOT_TOKEN=", tokens.slackBot(r)) },
  { ruleId: "slack-token", label: "user", make: (r) => plain("slack user ", tokens.slackUser(r)) },
  { ruleId: "slack-token", label: "app", make: (r) => plain("app token ", tokens.slackApp(r)) },
  {
    ruleId: "slack-token",
    label: "webhook",
    make: (r) => plain("curl -X POST ", tokens.slackWebhook(r), " -d @msg.json"),
  },
  { ruleId: "stripe-key", label: "live", make: (r) => plain("STRIPE_KEY=", tokens.stripe(r, "sk_live")) },
  { ruleId: "stripe-key", label: "restricted", make: (r) => plain("stripe: ", tokens.stripe(r, "rk_live")) },
  { ruleId: "stripe-key", label: "test", make: (r) => plain("test key ", tokens.stripe(r, "sk_test")) },
  { ruleId: "openai-key", label: "project", make: (r) => plain("OPENAI_API_KEY=", tokens.openai(r, "proj")) },
  {
    ruleId: "openai-key",
    label: "service account",
    make: (r) => plain("openai: ", tokens.openai(r, "svcacct")),
  },
  { ruleId: "openai-key", label: "legacy", make: (r) => plain("key ", tokens.openai(r, "legacy")) },
  { ruleId: "anthropic-key", label: "api", make: (r) => plain("ANTHROPIC_API_KEY=", tokens.anthropic(r)) },
  { ruleId: "anthropic-key", label: "admin", make: (r) => plain("admin ", tokens.anthropic(r, "admin01")) },
  {
    ruleId: "google-service-account",
    label: "key file",
    make: (r) => {
      const document = tokens.serviceAccount(r);
      const start = document.indexOf('"-----') + 1;
      const end = document.indexOf('"', document.indexOf("KEY-----\\n", start + 40));
      return plain(
        `cat key.json\n${document.slice(0, start)}`,
        document.slice(start, end),
        document.slice(end),
      );
    },
  },
  {
    ruleId: "generic-secret",
    label: "env password",
    make: (r) => plain("DB_PASSWORD=", tokens.randomValue(r, r.between(16, 32))),
  },
  {
    ruleId: "generic-secret",
    label: "yaml api_key",
    make: (r) => plain("  api_key: ", tokens.randomValue(r, r.between(20, 40))),
  },
  {
    ruleId: "generic-secret",
    label: "json client_secret",
    make: (r) => plain('{"client_secret": "', tokens.randomValue(r, 32), '"}'),
  },
  {
    ruleId: "generic-secret",
    label: "url token",
    make: (r) => plain("GET /hook?token=", r.chars(ALNUM, 32), "&id=7 HTTP/1.1"),
  },
];

/** One issued secret of each kind the broker mints, plus a password full of characters to escape. */
function issuedSecrets(rng: Rng): IssuedSecret[] {
  const jwt = tokens.jwt(rng, { alg: "ES256", kid: `lk-${rng.chars(HEX, 8)}`, typ: "at+jwt" });
  return [
    { credentialId: "cred_jwt", kind: "jwt", secret: jwt },
    { credentialId: "cred_aws", kind: "aws secret key", secret: tokens.awsSecretKey(rng) },
    { credentialId: "cred_aws", kind: "aws session token", secret: tokens.awsSessionToken(rng) },
    { credentialId: "cred_ghs", kind: "ghs classic", secret: tokens.githubClassic(rng, "ghs") },
    { credentialId: "cred_ghs2", kind: "ghs stateless", secret: tokens.githubStateless(rng) },
    { credentialId: "cred_pw", kind: "password", secret: `p@ss w0rd/"q"<é>&+${rng.chars(ALNUM, 16)}` },
  ];
}

interface Form {
  label: string;
  before: string;
  text: string;
  after: string;
}

/** The contexts each issued secret is planted in: every encoding and every base64 alignment. */
function issuedForms(rng: Rng, secret: string): Form[] {
  const raw = Buffer.from(secret);
  const forms: Form[] = [{ label: "raw", before: "credential: ", text: secret, after: "" }];
  for (const alphabet of ["base64", "base64url"] as const) {
    for (let alignment = 0; alignment < 3; alignment++) {
      const prefix = rng.bytes(3 * rng.between(2, 20) + alignment);
      const blob = Buffer.concat([prefix, raw, rng.bytes(rng.between(0, 60))]).toString(alphabet);
      const first = Math.ceil((8 * prefix.length) / 6);
      const end = Math.floor((8 * (prefix.length + raw.length)) / 6);
      forms.push({
        label: `${alphabet}/${alignment}`,
        before: `payload ${alphabet}: ${blob.slice(0, first)}`,
        text: blob.slice(first, end),
        after: blob.slice(end),
      });
    }
  }
  const hex = raw.toString("hex");
  forms.push({ label: "hex", before: "dump=", text: hex, after: "" });
  forms.push({ label: "HEX", before: "DUMP=", text: hex.toUpperCase(), after: ";" });
  forms.push({
    label: "url",
    before: "redirect https://app.invalid/cb?code=1&state=",
    text: encodeURIComponent(secret),
    after: "&next=%2F",
  });
  forms.push({
    label: "form",
    before: "POST /login body=user=ci&secret=",
    text: new URLSearchParams({ s: secret }).toString().slice(2),
    after: "&remember=1",
  });
  const json = JSON.stringify(secret).slice(1, -1);
  forms.push({ label: "json", before: '{"credential":"', text: json, after: '"}' });
  forms.push({
    label: "json \\/",
    before: '{"credential":"',
    text: json.replaceAll("/", "\\/"),
    after: '"}',
  });
  // Python's json.dumps (ensure_ascii) and Go's encoder: \uXXXX beyond ASCII and for < > &.
  const ascii = Array.from(json, (c) =>
    c.charCodeAt(0) > 0x7f || "<>&".includes(c) ? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}` : c,
  ).join("");
  forms.push({ label: "json \\u", before: "{'credential': \"", text: ascii, after: '"}' });
  // PHP's json_encode by default: both.
  forms.push({
    label: "json \\u \\/",
    before: '{"credential":"',
    text: ascii.replaceAll("/", "\\/"),
    after: '"}',
  });
  const seen = new Set<string>();
  return forms.filter((form) => {
    if (seen.has(form.text)) return false;
    seen.add(form.text);
    return true;
  });
}

export function buildCorpus(seed: number, fillerLines = 2500): Corpus {
  const rng = new Rng(seed);
  const parts: string[] = [];
  const planted: Planted[] = [];
  let offset = 0;
  const add = (text: string) => {
    parts.push(text);
    offset += Buffer.byteLength(text);
  };
  const plant = (
    before: string,
    secret: string,
    after: string,
    meta: Omit<Planted, "start" | "end" | "text">,
  ) => {
    add(before);
    const start = offset;
    add(secret);
    planted.push({ ...meta, start, end: offset, text: secret });
    add(after);
  };

  const issued = issuedSecrets(rng);
  const matchers = issued.flatMap((item) =>
    buildMatchers(item.secret, {
      credentialId: item.credentialId,
      sessionId: "sess-corpus",
      provider: item.kind,
    }),
  );
  const events: Array<() => void> = [];
  for (const item of issued) {
    for (const form of issuedForms(rng, item.secret)) {
      events.push(() =>
        plant(form.before, form.text, form.after, {
          ruleId: "latchkey-issued",
          label: `${item.kind} ${form.label}`,
          credentialId: item.credentialId,
        }),
      );
    }
  }
  for (const generic of GENERIC) {
    for (let i = 0; i < 6; i++) {
      events.push(() => {
        const { before, secret, after } = generic.make(rng);
        plant(before, secret, after, { ruleId: generic.ruleId, label: generic.label });
      });
    }
  }
  let decoys = 0;
  for (let i = 0; i < 250; i++) {
    events.push(() => {
      add(decoy(rng));
      decoys++;
    });
  }
  // A secret at the very start of the stream, then the events scattered through the filler.
  const first = issued[3] as IssuedSecret;
  plant("", first.secret, "\n", {
    ruleId: "latchkey-issued",
    label: "at offset 0",
    credentialId: first.credentialId,
  });
  const order = events.map((event) => ({ event, key: rng.next() }));
  order.sort((a, b) => a.key - b.key);
  const every = Math.max(1, Math.floor(fillerLines / order.length));
  let next = 0;
  for (let line = 0; line < fillerLines || next < order.length; line++) {
    add(`${fillerLine(rng)}\n`);
    if (line % every === 0 && next < order.length) {
      order[next++]?.event();
      add("\n");
    }
  }
  // And one at the very end, with no newline after it.
  const last = issued[0] as IssuedSecret;
  plant("token ", last.secret, "", {
    ruleId: "latchkey-issued",
    label: "at the end",
    credentialId: last.credentialId,
  });
  return { bytes: Buffer.from(parts.join("")), planted, issued, matchers, decoys };
}
