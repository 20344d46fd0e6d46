import { hasValidChecksum } from "./checksum.js";
import { endsToken, isWordChar, matchAt, startsToken } from "./text.js";
import type { Rule, RuleMatch } from "./types.js";

// npm's access tokens use GitHub's format: 30 random base62 characters and a CRC32 checksum.
const NPM = /npm_([A-Za-z0-9]{36})/y;

export const npmToken: Rule = {
  id: "npm-token",
  name: "NpmToken",
  description: "npm access token (checksum verified)",
  severity: "high",
  keywords: ["npm_"],
  before: 1,
  after: 48,
  find(text, hits) {
    const found: RuleMatch[] = [];
    for (const hit of hits) {
      if (!startsToken(text, hit, isWordChar)) continue;
      const m = matchAt(NPM, text, hit);
      if (m && endsToken(text, hit + 40, isWordChar) && hasValidChecksum(m[1] as string)) {
        found.push({ start: hit, end: hit + 40 });
      }
    }
    return found;
  },
};
