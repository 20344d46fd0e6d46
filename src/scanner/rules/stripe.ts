import { endsToken, isWordChar, matchAt, startsToken } from "./text.js";
import type { Rule, RuleMatch } from "./types.js";

// Secret and restricted keys. Publishable `pk_` keys are meant to be public and are not reported;
// test-mode keys move no money and are reported at low severity.
const KEY = /[rs]k_(live|test)_[0-9A-Za-z]{10,247}/y;

export const stripe: Rule = {
  id: "stripe-key",
  name: "StripeKey",
  description: "Stripe secret or restricted API key (test-mode keys at low severity)",
  severity: "high",
  keywords: ["sk_live_", "rk_live_", "sk_test_", "rk_test_"],
  before: 1,
  after: 264,
  find(text, hits) {
    const found: RuleMatch[] = [];
    for (const hit of hits) {
      if (!startsToken(text, hit, isWordChar)) continue;
      const m = matchAt(KEY, text, hit);
      if (!m || !endsToken(text, hit + m[0].length, isWordChar)) continue;
      found.push({
        start: hit,
        end: hit + m[0].length,
        ...(m[1] === "test" ? { severity: "low" as const } : {}),
      });
    }
    return found;
  },
};
