import { hasValidChecksum } from "./checksum.js";
import { endsToken, isWordChar, matchAt, startsToken } from "./text.js";
import type { Rule, RuleMatch } from "./types.js";

// Classic tokens: prefix, 30 random base62 characters and their 6-character CRC32 checksum.
const CLASSIC = /gh[pousr]_([A-Za-z0-9]{36})/y;
// The long stateless installation-token form: three dot-separated parts, 36 characters or more.
const STATELESS = /ghs_[A-Za-z0-9_]{1,2048}\.[A-Za-z0-9_]{1,2048}\.[A-Za-z0-9_]{1,2048}/y;
const STATELESS_MIN_BODY = 36;
// Fine-grained personal access tokens; their checksum scheme is not documented.
const FINE_GRAINED = /github_pat_\w{82}/y;

const isStatelessChar = (code: number): boolean => code === 0x2e || isWordChar(code);

export const githubToken: Rule = {
  id: "github-token",
  name: "GitHubToken",
  description: "GitHub token: classic (checksum verified), stateless installation token, or fine-grained PAT",
  severity: "high",
  keywords: ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"],
  before: 1,
  after: 3 * 2048 + 8,
  find(text, hits) {
    const found: RuleMatch[] = [];
    for (const hit of hits) {
      if (!startsToken(text, hit, isStatelessChar)) continue;
      const fine = matchAt(FINE_GRAINED, text, hit);
      if (fine) {
        const end = hit + fine[0].length;
        if (endsToken(text, end, isWordChar)) found.push({ start: hit, end });
        continue;
      }
      const stateless = matchAt(STATELESS, text, hit);
      if (stateless && stateless[0].length - 4 >= STATELESS_MIN_BODY) {
        const end = hit + stateless[0].length;
        if (endsToken(text, end, isStatelessChar)) {
          found.push({ start: hit, end });
          continue;
        }
      }
      const classic = matchAt(CLASSIC, text, hit);
      if (classic && endsToken(text, hit + 40, isWordChar) && hasValidChecksum(classic[1] as string)) {
        found.push({ start: hit, end: hit + 40 });
      }
    }
    return found;
  },
};
