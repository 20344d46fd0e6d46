// The JSON and text reports. Both carry what a finding carries (never the secret) and a summary.

import { type Finding, type Severity, severities } from "./finding.js";

export interface ScanSummary {
  files: number;
  /** Files passed over during a directory walk because they look binary. */
  skipped: number;
  bytes: number;
  findings: number;
  bySeverity: Record<Severity, number>;
  byRule: Record<string, number>;
  durationMs: number;
}

export interface ScanTotals {
  files: number;
  skipped: number;
  bytes: number;
  durationMs: number;
}

export function summarize(findings: readonly Finding[], totals: ScanTotals): ScanSummary {
  const bySeverity = Object.fromEntries(severities.map((severity) => [severity, 0])) as Record<
    Severity,
    number
  >;
  const byRule: Record<string, number> = {};
  for (const finding of findings) {
    bySeverity[finding.severity]++;
    byRule[finding.ruleId] = (byRule[finding.ruleId] ?? 0) + 1;
  }
  return { ...totals, findings: findings.length, bySeverity, byRule };
}

export function formatJson(findings: readonly Finding[], summary: ScanSummary): string {
  return `${JSON.stringify({ findings, summary }, null, 2)}\n`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

function describe(finding: Finding): string {
  const parts = [`fingerprint ${finding.fingerprint.slice(0, 12)}`];
  if (finding.credentialId !== undefined) {
    parts.push(
      `credential ${finding.credentialId} of session ${finding.sessionId ?? "?"}, ${finding.encoding ?? "raw"}`,
    );
  }
  if (finding.awsAccountId !== undefined) {
    parts.push(`AWS account ${finding.awsAccountId}${finding.accountKnown ? " (ours)" : ""}`);
  }
  return parts.join("; ");
}

export function formatText(findings: readonly Finding[], summary: ScanSummary): string {
  const lines = findings.map(
    (f) =>
      `${f.path ?? "<stdin>"}:${f.line}:${f.column}  ${f.severity.padEnd(8)}  ${f.ruleId}  ${f.preview}  (${describe(f)})`,
  );
  const scanned = `${summary.files} ${summary.files === 1 ? "input" : "inputs"}, ${formatBytes(summary.bytes)}${
    summary.skipped > 0
      ? `; ${summary.skipped} binary ${summary.skipped === 1 ? "file" : "files"} skipped`
      : ""
  }`;
  if (findings.length === 0) {
    lines.push(`No secrets found (${scanned}).`);
  } else {
    const counts = severities
      .filter((severity) => summary.bySeverity[severity] > 0)
      .map((severity) => `${summary.bySeverity[severity]} ${severity}`)
      .join(", ");
    lines.push(
      "",
      `${findings.length} ${findings.length === 1 ? "secret" : "secrets"} found (${counts}) in ${scanned}.`,
    );
  }
  return `${lines.join("\n")}\n`;
}
