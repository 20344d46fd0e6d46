import { shannonEntropy } from "./text.js";
import type { Rule, RuleMatch } from "./types.js";

// A secret access key has no structure of its own: 40 base64 characters. It is reported only next
// to an access key id or a secret-key keyword, and only when it looks random: a 40-character hex
// string (a git commit id) or AWS's documented example key is not one.
const CANDIDATE = /(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{40}(?![A-Za-z0-9+/=])/g;
const MIN_ENTROPY = 4;
/** How far from a keyword hit a candidate may start or end. */
const NEAR = 255;

function looksRandom(value: string): boolean {
  return (
    /[a-z]/.test(value) &&
    /[A-Z]/.test(value) &&
    /[0-9]/.test(value) &&
    !/^[0-9a-fA-F]+$/.test(value) &&
    !/example/i.test(value) &&
    shannonEntropy(value) >= MIN_ENTROPY
  );
}

export const awsSecretAccessKey: Rule = {
  id: "aws-secret-access-key",
  name: "AwsSecretAccessKey",
  description: "AWS secret access key next to an access key id or an aws_secret_access_key-like name",
  severity: "critical",
  keywords: [
    "akia",
    "asia",
    "abia",
    "acca",
    "aws_secret",
    "aws-secret",
    "secret_access_key",
    "secret-access-key",
    "secretaccesskey",
  ],
  before: 256,
  after: 256,
  find(text, hits) {
    const found: RuleMatch[] = [];
    let next = 0;
    for (const m of text.matchAll(CANDIDATE)) {
      const start = m.index;
      while (next < hits.length && (hits[next] as number) + NEAR < start + 40) next++;
      const hit = hits[next];
      if (hit !== undefined && hit - NEAR <= start && looksRandom(m[0]))
        found.push({ start, end: start + 40 });
    }
    return found;
  },
};
