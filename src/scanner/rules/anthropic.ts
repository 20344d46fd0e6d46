import { endsToken, isBase64UrlChar, matchAt, startsToken } from "./text.js";
import type { Rule, RuleMatch } from "./types.js";

// API and admin keys: a versioned prefix, 93 base64url characters, and the fixed suffix `AA`.
const KEY = /sk-ant-(?:api03|admin01)-[A-Za-z0-9_-]{93}AA/y;

export const anthropic: Rule = {
  id: "anthropic-key",
  name: "AnthropicApiKey",
  description: "Anthropic API or admin key",
  severity: "high",
  keywords: ["sk-ant-"],
  before: 1,
  after: 128,
  find(text, hits) {
    const found: RuleMatch[] = [];
    for (const hit of hits) {
      if (!startsToken(text, hit, isBase64UrlChar)) continue;
      const m = matchAt(KEY, text, hit);
      if (m && endsToken(text, hit + m[0].length, isBase64UrlChar))
        found.push({ start: hit, end: hit + m[0].length });
    }
    return found;
  },
};
