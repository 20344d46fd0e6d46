import { shannonEntropy } from "./text.js";
import type { Rule, RuleMatch } from "./types.js";

// `password=…`, `api_key: "…"`, `"client_secret": "…"`, `DB_TOKEN := …`: a secret-sounding name
// (possibly inside a longer identifier), an assignment, and a value. Most such values in real
// output are placeholders, references or identifiers, so a value is reported only when it is long
// and random enough and is not a known placeholder.

/** Longer values are left to the format rules: a window this wide is cut for every keyword hit. */
const MAX_VALUE = 256;
const ASSIGNMENT = new RegExp(
  String.raw`(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|auth[_-]?key)[A-Za-z0-9_.-]{0,24}["']?\s{0,4}(?::=|=>|=|:)\s{0,4}(["'\x60]?)([^\s"'\x60,;&<>]{8,${MAX_VALUE}})`,
  "iy",
);
const MIN_ENTROPY = 3.5;
const STOP_WORDS = [
  "changeme",
  "change_me",
  "example",
  "placeholder",
  "sample",
  "dummy",
  "redacted",
  "xxxx",
  "****",
  "....",
  "your",
  "replace",
  "insert",
  "todo",
  "fixme",
  "secret",
  "password",
  "token",
  "null",
  "undefined",
  "none",
  "true",
  "false",
  "process.env",
  "os.environ",
  "getenv",
];
/** Values that refer to a secret kept elsewhere: `${VAR}`, `$VAR`, `%VAR%`, `%(name)s`, `{{ x }}`, `<key>`, calls. */
const REFERENCE = /^[$<[@]|^%\w+%$|[({]/;
/** Formats with a checksum another rule verifies: a value failing it is not a secret of that kind. */
const CHECKED_FORMAT = /^(?:gh[pousr]_|github_pat_|npm_)/;
/** `env.API_KEY`, `config.auth.token`: code that reads the secret from somewhere else. */
const PROPERTY_PATH = /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+$/;
/** A UUID names a thing (a request, a session, a resource); it is not what authenticates. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `0123456789abcdef`, `abcd1234`: keyboard fillers, not random. */
function isMostlySequential(value: string): boolean {
  let steps = 0;
  for (let i = 1; i < value.length; i++) if (value.charCodeAt(i) === value.charCodeAt(i - 1) + 1) steps++;
  return steps >= 0.6 * (value.length - 1);
}

function characterClasses(value: string): number {
  return Number(/[a-z]/.test(value)) + Number(/[A-Z]/.test(value)) + Number(/[0-9]/.test(value));
}

function isLikelySecretValue(value: string): boolean {
  if (
    REFERENCE.test(value) ||
    PROPERTY_PATH.test(value) ||
    UUID.test(value) ||
    CHECKED_FORMAT.test(value) ||
    characterClasses(value) < 2 ||
    isMostlySequential(value)
  ) {
    return false;
  }
  const lower = value.toLowerCase();
  if (STOP_WORDS.some((word) => lower.includes(word))) return false;
  return shannonEntropy(value) >= MIN_ENTROPY;
}

export const genericSecret: Rule = {
  id: "generic-secret",
  name: "GenericSecretAssignment",
  description: "High-entropy value assigned to a password, secret, token or API-key name",
  severity: "medium",
  keywords: [
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "apikey",
    "api_key",
    "api-key",
    "access_key",
    "access-key",
    "auth_key",
    "auth-key",
  ],
  before: 0,
  after: 64 + MAX_VALUE + 1,
  find(text, hits) {
    const found: RuleMatch[] = [];
    // A keyword inside a value already read (`token=abcTOKEN=…`) is part of that value.
    let readTo = 0;
    for (const hit of hits) {
      if (hit < readTo) continue;
      ASSIGNMENT.lastIndex = hit;
      const m = ASSIGNMENT.exec(text);
      if (!m) continue;
      const value = m[2] as string;
      const end = hit + m[0].length;
      readTo = end;
      const cut = value.length === MAX_VALUE && end < text.length && !/[\s"'`,;&<>]/.test(text.charAt(end));
      if (!cut && isLikelySecretValue(value)) found.push({ start: end - value.length, end });
    }
    return found;
  },
};
