import type { Rule, RuleMatch } from "./types.js";

// A Google service-account key file: a JSON object with "type": "service_account", a
// "private_key" (a PEM with `\n` escapes) and a "client_email". The finding is the private key
// string; the other fields are identifiers, not secrets.

const REACH = 8 * 1024;
const MAX_VALUE = 12 * 1024;
const TYPE_BEFORE = /"type"\s{0,8}:\s{0,8}"$/;
const VALUE_START = /\s{0,8}:\s{0,8}"/y;
const PRIVATE_KEY_NAME = '"private_key"';
const CLIENT_EMAIL = /"client_email"\s{0,8}:\s{0,8}"[^"@\s]{1,128}@[^"@\s]{1,128}"/g;

function positionsOf(text: string, needle: string): number[] {
  const found: number[] = [];
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length)) found.push(i);
  return found;
}

/** The JSON string value after `"private_key"` at `at`, as [start, end) of its contents. */
function stringValue(text: string, at: number): [number, number] | undefined {
  VALUE_START.lastIndex = at + PRIVATE_KEY_NAME.length;
  if (!VALUE_START.exec(text)) return undefined;
  const start = VALUE_START.lastIndex;
  for (let i = start; i < text.length && i - start < MAX_VALUE; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x5c) i++;
    else if (code === 0x22) return [start, i];
  }
  return undefined;
}

/** Whether some element of the ascending `positions` lies within REACH of `at`. */
function near(positions: readonly number[], at: number): boolean {
  let low = 0;
  let high = positions.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((positions[mid] as number) < at - REACH) low = mid + 1;
    else high = mid;
  }
  const first = positions[low];
  return first !== undefined && first <= at + REACH;
}

export const googleServiceAccount: Rule = {
  id: "google-service-account",
  name: "GoogleServiceAccountKey",
  description: "Google Cloud service-account key file (JSON with a private key and a client email)",
  severity: "critical",
  keywords: ["service_account"],
  before: REACH + 64,
  after: REACH + MAX_VALUE + 64,
  find(text, hits) {
    const keys = positionsOf(text, PRIVATE_KEY_NAME);
    if (keys.length === 0) return [];
    const emails = Array.from(text.matchAll(CLIENT_EMAIL), (m) => m.index);
    const types = hits.filter(
      (hit) =>
        text.startsWith('service_account"', hit) &&
        TYPE_BEFORE.test(text.slice(Math.max(0, hit - 32), hit)) &&
        near(emails, hit),
    );
    const found: RuleMatch[] = [];
    for (const key of keys) {
      if (!near(types, key)) continue;
      const value = stringValue(text, key);
      if (value !== undefined && text.slice(value[0], value[1]).includes("PRIVATE KEY")) {
        found.push({ start: value[0], end: value[1] });
      }
    }
    return found;
  },
};
