import type { SecretEncoding } from "./matchers.js";

export type Severity = "critical" | "high" | "medium" | "low";

export const severities = ["critical", "high", "medium", "low"] as const satisfies readonly Severity[];

/** The rule id of findings that are secrets Latchkey issued. */
export const ISSUED_RULE_ID = "latchkey-issued";

/** One secret found. Carries where and what, never the secret itself. */
export interface Finding {
  ruleId: string;
  severity: Severity;
  /** The file scanned, when the input was a file. */
  path?: string;
  /** Byte offset of the secret's first byte in the input. */
  offset: number;
  /** 1-based line of the first byte. */
  line: number;
  /** 1-based column of the first byte, in Unicode code points from the start of the line. */
  column: number;
  /** Bytes matched (the encoded form, for issued secrets). */
  length: number;
  /** Hex SHA-256 of the matched bytes, or of the raw secret for issued secrets. */
  fingerprint: string;
  /** The first few characters and an ellipsis: enough to recognise, never enough to use. */
  preview: string;
  credentialId?: string;
  sessionId?: string;
  encoding?: SecretEncoding;
  awsAccountId?: string;
  /** Whether awsAccountId is one of the accounts the scan was told about. */
  accountKnown?: boolean;
}

/** At most 4 characters, and never more than a quarter of the match, then an ellipsis. */
export function previewOf(matched: Uint8Array): string {
  const shown = Math.min(4, Math.floor(matched.length / 4));
  const head = Buffer.from(matched.buffer, matched.byteOffset, Math.min(matched.length, 16)).toString("utf8");
  return `${Array.from(head).slice(0, shown).join("")}…`;
}

/** What `--redact` writes in place of a secret. */
export function redactionMarker(finding: Pick<Finding, "ruleId" | "fingerprint">): string {
  return `[REDACTED:${finding.ruleId}:${finding.fingerprint.slice(0, 8)}]`;
}
