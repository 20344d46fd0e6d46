import { endsToken, isBase64UrlChar, matchAt, startsToken } from "./text.js";
import type { Rule, RuleMatch } from "./types.js";

// header.payload.signature in base64url; the header is a JSON object (so it starts `eyJ`) and
// names an `alg`. An empty signature (alg "none") still leaks the claims and is reported.
const JWT = /eyJ[A-Za-z0-9_-]{5,2048}\.[A-Za-z0-9_-]{2,16384}\.[A-Za-z0-9_-]{0,2048}/y;

function headerHasAlg(encoded: string): boolean {
  const json = Buffer.from(encoded, "base64url").toString("utf8");
  // A cheap shape check first: input built to fail JSON.parse over and over would be slow.
  if (!json.endsWith("}") || !json.includes('"alg"')) return false;
  try {
    const header: unknown = JSON.parse(json);
    return (
      typeof header === "object" && header !== null && typeof (header as { alg?: unknown }).alg === "string"
    );
  } catch {
    return false;
  }
}

export const jwt: Rule = {
  id: "jwt",
  name: "JsonWebToken",
  description: "JSON Web Token (three base64url parts, a JSON header with alg)",
  severity: "medium",
  keywords: ["eyj"],
  before: 1,
  after: 2048 + 16384 + 2048 + 8,
  find(text, hits) {
    const found: RuleMatch[] = [];
    for (const hit of hits) {
      if (!startsToken(text, hit, isBase64UrlChar)) continue;
      const m = matchAt(JWT, text, hit);
      if (!m) continue;
      const end = hit + m[0].length;
      if (endsToken(text, end, isBase64UrlChar) && headerHasAlg(m[0].slice(0, m[0].indexOf(".")))) {
        found.push({ start: hit, end });
      }
    }
    return found;
  },
};
