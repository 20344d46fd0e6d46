import { isBase64UrlChar } from "./text.js";
import type { Rule, RuleMatch } from "./types.js";

// Every OpenAI key carries the marker `T3BlbkFJ` (base64 of "OpenAI"), which is the keyword. The
// key is the base64url run around it: `sk-proj-`/`sk-svcacct-`/`sk-admin-` and 20 to 200
// characters on each side, or the legacy `sk-` with exactly 20 alphanumerics on each side.
const MARKER = "T3BlbkFJ";
const REACH = 220;
const KEY =
  /^sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,200}T3BlbkFJ[A-Za-z0-9_-]{20,200}|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20})$/;

export const openai: Rule = {
  id: "openai-key",
  name: "OpenAiApiKey",
  description: "OpenAI API key (project, service-account, admin or legacy)",
  severity: "high",
  keywords: ["t3blbkfj"],
  before: REACH + 1,
  after: REACH + MARKER.length + 1,
  find(text, hits) {
    const found: RuleMatch[] = [];
    // Hits inside a run already examined belong to that run's answer.
    let examinedTo = 0;
    for (const hit of hits) {
      if (hit < examinedTo || !text.startsWith(MARKER, hit)) continue;
      let start = hit;
      while (start > 0 && hit - start <= REACH && isBase64UrlChar(text.charCodeAt(start - 1))) start--;
      let end = hit + MARKER.length;
      while (end < text.length && end - hit <= REACH && isBase64UrlChar(text.charCodeAt(end))) end++;
      examinedTo = end;
      const cut =
        (start > 0 && isBase64UrlChar(text.charCodeAt(start - 1))) ||
        (end < text.length && isBase64UrlChar(text.charCodeAt(end)));
      if (!cut && KEY.test(text.slice(start, end))) found.push({ start, end });
    }
    return found;
  },
};
