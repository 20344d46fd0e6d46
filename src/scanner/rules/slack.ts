import { endsToken, isAlnum, isBase64UrlChar, matchAt, startsToken } from "./text.js";
import type { Rule, RuleMatch } from "./types.js";

// Bot, user, app and legacy tokens (`xoxb-123…-456…-AbC…`), app-level tokens and incoming webhooks.
const TOKEN = /xox[abposr]-(?:[0-9]{1,16}-){1,3}[A-Za-z0-9]{8,64}/y;
const APP_TOKEN = /xapp-[0-9]-[A-Z0-9]{6,20}-[0-9]{6,20}-[A-Za-z0-9]{32,128}/y;
const WEBHOOK =
  /hooks\.slack\.com\/(?:services\/T[A-Z0-9]{6,12}\/B[A-Z0-9]{6,12}\/[A-Za-z0-9]{16,32}|(?:workflows|triggers)\/T[A-Z0-9]{6,12}\/A[A-Z0-9]{6,12}\/[0-9]{6,20}\/[A-Za-z0-9]{16,32})/y;
const SCHEME = "https://";

export const slack: Rule = {
  id: "slack-token",
  name: "SlackToken",
  description: "Slack bot, user, app-level or legacy token, or incoming-webhook URL",
  severity: "high",
  keywords: ["xoxa-", "xoxb-", "xoxp-", "xoxo-", "xoxs-", "xoxr-", "xapp-", "hooks.slack.com/"],
  before: SCHEME.length + 1,
  after: 192,
  find(text, hits) {
    const found: RuleMatch[] = [];
    for (const hit of hits) {
      if (text.startsWith("hooks.", hit)) {
        const m = matchAt(WEBHOOK, text, hit);
        if (!m || !endsToken(text, hit + m[0].length, isAlnum)) continue;
        const start = text.startsWith(SCHEME, hit - SCHEME.length) ? hit - SCHEME.length : hit;
        found.push({ start, end: hit + m[0].length, severity: "medium" });
        continue;
      }
      if (!startsToken(text, hit, isAlnum)) continue;
      const m = matchAt(text.startsWith("xapp-", hit) ? APP_TOKEN : TOKEN, text, hit);
      if (m && endsToken(text, hit + m[0].length, isBase64UrlChar))
        found.push({ start: hit, end: hit + m[0].length });
    }
    return found;
  },
};
