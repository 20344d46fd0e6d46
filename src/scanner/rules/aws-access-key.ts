import { endsToken, isAlnum, matchAt, startsToken } from "./text.js";
import type { Rule, RuleMatch } from "./types.js";

// Access key ids: a type prefix and 16 characters of base32 (`A-Z2-7`). AKIA is a long-lived
// user key, ASIA a temporary STS key; ABIA and ACCA are other issuers' keys.
const KEY_ID = /(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}/y;
const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/**
 * The AWS account a key id belongs to, decoded offline: base32-decode the 16 characters after the
 * prefix, take the first 6 bytes big-endian, mask 0x7fffffffff80 and shift right by 7. Ids whose
 * fifth character is I or J predate this encoding and carry no account.
 */
export function awsAccountIdOf(keyId: string): string | undefined {
  if (!/^[A-Z]{4}[A-Z2-7]{16}$/.test(keyId)) return undefined;
  if (keyId[4] === "I" || keyId[4] === "J") return undefined;
  // 10 characters give 50 bits: the 48 we need and 2 to drop. All fit a double exactly.
  let bits = 0;
  for (let i = 4; i < 14; i++) bits = bits * 32 + BASE32.indexOf(keyId.charAt(i));
  const first48 = Math.floor(bits / 4);
  const account = Math.floor((first48 % 2 ** 47) / 128);
  return String(account).padStart(12, "0");
}

export const awsAccessKeyId: Rule = {
  id: "aws-access-key-id",
  name: "AwsAccessKeyId",
  description: "AWS access key id; high severity when it belongs to one of the configured accounts",
  severity: "medium",
  keywords: ["akia", "asia", "abia", "acca"],
  before: 1,
  after: 24,
  find(text, hits, context) {
    const found: RuleMatch[] = [];
    for (const hit of hits) {
      if (!startsToken(text, hit, isAlnum)) continue;
      const m = matchAt(KEY_ID, text, hit);
      if (!m || !endsToken(text, hit + 20, isAlnum)) continue;
      const awsAccountId = awsAccountIdOf(m[0]);
      if (awsAccountId === undefined) {
        found.push({ start: hit, end: hit + 20 });
        continue;
      }
      const accountKnown = context.awsAccounts.has(awsAccountId);
      found.push({
        start: hit,
        end: hit + 20,
        awsAccountId,
        accountKnown,
        severity: accountKnown ? "high" : "medium",
      });
    }
    return found;
  },
};
