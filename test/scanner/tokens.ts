// Generators for every format the scanner knows, driven by a seeded PRNG so that corpora and
// tables are reproducible. Nothing real-format is written in the repository: every token, key and
// marker that a secret scanner would flag is assembled here at run time.

import { crc32 } from "node:zlib";

export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0 || 1;
  }

  /** mulberry32 */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  int(limit: number): number {
    return this.next() % limit;
  }

  between(low: number, high: number): number {
    return low + this.int(high - low + 1);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  chars(alphabet: string, length: number): string {
    let out = "";
    for (let i = 0; i < length; i++) out += alphabet.charAt(this.int(alphabet.length));
    return out;
  }

  bytes(length: number): Buffer {
    const out = Buffer.alloc(length);
    for (let i = 0; i < length; i++) out[i] = this.int(256);
    return out;
  }
}

export const DIGITS = "0123456789";
export const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
export const LOWER = "abcdefghijklmnopqrstuvwxyz";
export const ALNUM = DIGITS + UPPER + LOWER;
export const HEX = "0123456789abcdef";
export const BASE64 = `${UPPER}${LOWER}${DIGITS}+/`;
export const BASE64URL = `${UPPER}${LOWER}${DIGITS}-_`;
export const BASE32 = `${UPPER}234567`;

/** Strings a scanner would flag if they sat in the source as one literal. */
export const pieces = {
  pemBegin: (label: string) => `-----BEGIN ${label}PRIVATE KEY-----`,
  pemEnd: (label: string) => `-----END ${label}PRIVATE KEY-----`,
  openaiMarker: `T3Blbk${"FJ"}`,
  opensshMagic: `b3BlbnNzaC1r${"ZXktdjE"}`,
};

function base62(value: number): string {
  let out = "";
  for (let rest = value; rest > 0; rest = Math.floor(rest / 62)) out = ALNUM.charAt(rest % 62) + out;
  return out.padStart(6, "0");
}

/** 30 random base62 characters and their CRC32 checksum, as GitHub and npm tokens carry. */
export function checksummed(rng: Rng): string {
  const random = rng.chars(ALNUM, 30);
  return random + base62(crc32(random));
}

/** The same with one checksum character changed. */
export function badChecksum(rng: Rng): string {
  const good = checksummed(rng);
  const last = good.charAt(35);
  return good.slice(0, 35) + (last === "0" ? "1" : "0");
}

export const tokens = {
  githubClassic: (rng: Rng, prefix = "ghp") => `${prefix}_${checksummed(rng)}`,
  /** `ghs_<app id>_<JWT>` with no `-` in it, as GitHub's stateless installation tokens are. */
  githubStateless: (rng: Rng) => {
    const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
    for (;;) {
      const appId = rng.chars(DIGITS, 7);
      const header = part({ alg: "HS512", typ: "JWT", kid: `app-${appId}` });
      const payload = part({ iss: appId, jti: rng.chars(HEX, 48), exp: 1790000000 + rng.int(1e6) });
      const token = `ghs_${appId}_${header}.${payload}.${rng.chars(BASE64URL, 86)}`;
      if (!token.includes("-")) return token;
    }
  },
  githubFineGrained: (rng: Rng) => `github_pat_${rng.chars(ALNUM, 22)}_${rng.chars(ALNUM, 59)}`,
  npm: (rng: Rng) => `npm_${checksummed(rng)}`,
  awsKeyId: (rng: Rng, prefix = "AKIA", account?: string) => awsKeyId(rng, prefix, account),
  awsSecretKey: (rng: Rng) => {
    for (;;) {
      const key = rng.chars(BASE64, 40);
      if (/[a-z]/.test(key) && /[A-Z]/.test(key) && /[0-9]/.test(key)) return key;
    }
  },
  awsSessionToken: (rng: Rng) => `IQoJb3JpZ2luX2VjE${rng.chars(BASE64, rng.between(300, 700))}==`,
  jwt: (rng: Rng, header: Record<string, unknown> = { alg: "HS256", typ: "JWT" }) => {
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const claims = {
      sub: `user-${rng.int(100000)}`,
      iat: 1700000000 + rng.int(1e6),
      jti: rng.chars(ALNUM, 16),
    };
    return `${encode(header)}.${encode(claims)}.${rng.chars(BASE64URL, 43)}`;
  },
  pem: (rng: Rng, label = "RSA ", layout: "lines" | "flat" | "escaped" = "lines") => {
    const der = Buffer.concat([Buffer.from([0x30, 0x82, 0x02, 0x5c]), rng.bytes(rng.between(300, 600))]);
    return pemOf(label, der.toString("base64"), layout);
  },
  opensshKey: (rng: Rng) =>
    pemOf(
      "OPENSSH ",
      Buffer.concat([Buffer.from("openssh-key-v1\0"), rng.bytes(400)]).toString("base64"),
      "lines",
    ),
  slackBot: (rng: Rng) => `xoxb-${rng.chars(DIGITS, 12)}-${rng.chars(DIGITS, 13)}-${rng.chars(ALNUM, 24)}`,
  slackUser: (rng: Rng) =>
    `xoxp-${rng.chars(DIGITS, 10)}-${rng.chars(DIGITS, 10)}-${rng.chars(DIGITS, 12)}-${rng.chars(HEX, 32)}`,
  slackApp: (rng: Rng) =>
    `xapp-1-A${rng.chars(UPPER + DIGITS, 10)}-${rng.chars(DIGITS, 13)}-${rng.chars(HEX, 64)}`,
  slackWebhook: (rng: Rng) =>
    `https://hooks.slack.com/services/T${rng.chars(UPPER + DIGITS, 8)}/B${rng.chars(UPPER + DIGITS, 10)}/${rng.chars(ALNUM, 24)}`,
  stripe: (rng: Rng, prefix = "sk_live") => `${prefix}_${rng.chars(ALNUM, rng.between(24, 99))}`,
  openai: (rng: Rng, kind: "proj" | "svcacct" | "legacy" = "proj") =>
    kind === "legacy"
      ? `sk-${rng.chars(ALNUM, 20)}${pieces.openaiMarker}${rng.chars(ALNUM, 20)}`
      : `sk-${kind}-${rng.chars(BASE64URL, 74)}${pieces.openaiMarker}${rng.chars(BASE64URL, 74)}`,
  anthropic: (rng: Rng, kind: "api03" | "admin01" = "api03") =>
    `sk-ant-${kind}-${rng.chars(BASE64URL, 93)}AA`,
  serviceAccount: (rng: Rng) => {
    const project = `proj-${rng.chars(LOWER + DIGITS, 8)}`;
    const document = {
      type: "service_account",
      project_id: project,
      private_key_id: rng.chars(HEX, 40),
      private_key: `${tokens.pem(rng, "", "lines")}\n`,
      client_email: `deployer@${project}.iam.gserviceaccount.com`,
      client_id: rng.chars(DIGITS, 21),
      auth_uri: "https://accounts.google.com/o/oauth2/auth",
      token_uri: "https://oauth2.googleapis.com/token",
      auth_provider_x509_cert_url: "https://www.googleapis.com/oauth2/v1/certs",
    };
    return JSON.stringify(document, null, 2);
  },
  /**
   * A value the generic rule should take for a secret: long, mixed, random. No character comes
   * twice, so the value's entropy is log2(length), 4 bits or more: a free draw could repeat enough
   * characters to fall under the rule's threshold, and whether a seed's corpus passed would
   * depend on how many numbers the generator had drawn before.
   */
  randomValue: (rng: Rng, length = 24) => {
    const alphabet = `${ALNUM}!#%^*+-_.~`;
    if (length > alphabet.length) throw new RangeError(`randomValue: at most ${alphabet.length} characters`);
    for (;;) {
      const unused = [...alphabet];
      let value = "";
      for (let i = 0; i < length; i++) value += unused.splice(rng.int(unused.length), 1)[0];
      if (/[a-z]/.test(value) && /[A-Z]/.test(value) && /[0-9]/.test(value)) return value;
    }
  },
};

function pemOf(label: string, body: string, layout: "lines" | "flat" | "escaped"): string {
  const lines = body.match(/.{1,64}/g) ?? [];
  const separator = layout === "lines" ? "\n" : layout === "flat" ? " " : "\\n";
  return [pieces.pemBegin(label), ...lines, pieces.pemEnd(label)].join(separator);
}

/**
 * An access key id whose encoded account is `account` (12 digits), or a random one. The top bit
 * is set, as in the keys AWS issues today, so the fifth character is never the I or J of
 * old-generation ids.
 */
function awsKeyId(rng: Rng, prefix: string, account?: string): string {
  const bytes = rng.bytes(10);
  if (account !== undefined) {
    const value = (BigInt(account) << 7n) | BigInt(rng.int(128));
    for (let i = 0; i < 6; i++) bytes[i] = Number((value >> BigInt(8 * (5 - i))) & 0xffn);
  }
  bytes[0] = (bytes[0] as number) | 0x80;
  let bits = "";
  for (const byte of bytes) bits += byte.toString(2).padStart(8, "0");
  let out = "";
  for (let i = 0; i < 80; i += 5) out += BASE32.charAt(Number.parseInt(bits.slice(i, i + 5), 2));
  return prefix + out;
}
