// SARIF 2.1.0: one run, every rule described in tool.driver.rules, each finding a result located
// by line, column (code points) and byte range, with our fingerprint as its partial fingerprint.

import { isAbsolute, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { type Finding, ISSUED_RULE_ID, type Severity } from "./finding.js";
import type { Rule } from "./rules/index.js";

const SARIF_SCHEMA =
  "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
const INFORMATION_URI = "https://latchkey.dev/docs/scan";

const levels: Record<Severity, "error" | "warning" | "note"> = {
  critical: "error",
  high: "error",
  medium: "warning",
  low: "note",
};

/** GitHub code scanning ranks results by this property (0.0 to 10.0). */
const securitySeverity: Record<Severity, string> = {
  critical: "9.5",
  high: "8.0",
  medium: "5.5",
  low: "3.0",
};

interface RuleDescription {
  id: string;
  name: string;
  description: string;
  severity: Severity;
}

const issuedRule: RuleDescription = {
  id: ISSUED_RULE_ID,
  name: "LatchkeyIssuedCredential",
  description:
    "A credential Latchkey issued, found exactly (raw, base64, base64url, hex, URL- or JSON-escaped)",
  severity: "critical",
};

/** A relative path as a URI reference, an absolute one as a file: URL. */
function artifactUri(path: string): string {
  if (isAbsolute(path)) return pathToFileURL(path).href;
  return path
    .split(sep)
    .filter((segment) => segment !== "." && segment !== "")
    .map(encodeURIComponent)
    .join("/");
}

function message(finding: Finding, rule: RuleDescription): string {
  const owner =
    finding.credentialId === undefined
      ? ""
      : ` (credential ${finding.credentialId}, ${finding.encoding ?? "raw"})`;
  return `${rule.description}${owner}: ${finding.preview}, fingerprint ${finding.fingerprint.slice(0, 12)}.`;
}

export function formatSarif(findings: readonly Finding[], rules: readonly Rule[], version: string): string {
  const described: RuleDescription[] = [issuedRule, ...rules];
  const index = new Map(described.map((rule, i) => [rule.id, i]));
  const results = findings.map((finding) => {
    const ruleIndex = index.get(finding.ruleId) ?? 0;
    const rule = described[ruleIndex] as RuleDescription;
    const properties = Object.fromEntries(
      Object.entries({
        severity: finding.severity,
        credentialId: finding.credentialId,
        sessionId: finding.sessionId,
        encoding: finding.encoding,
        awsAccountId: finding.awsAccountId,
        accountKnown: finding.accountKnown,
      }).filter(([, value]) => value !== undefined),
    );
    return {
      ruleId: finding.ruleId,
      ruleIndex,
      level: levels[finding.severity],
      message: { text: message(finding, rule) },
      locations: [
        {
          physicalLocation: {
            artifactLocation:
              finding.path === undefined
                ? { description: { text: "standard input" } }
                : { uri: artifactUri(finding.path) },
            region: {
              startLine: finding.line,
              startColumn: finding.column,
              byteOffset: finding.offset,
              byteLength: finding.length,
            },
          },
        },
      ],
      partialFingerprints: { "latchkeyFingerprint/v1": finding.fingerprint },
      properties,
    };
  });
  const log = {
    $schema: SARIF_SCHEMA,
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "latchkey-scan",
            version,
            informationUri: INFORMATION_URI,
            rules: described.map((rule) => ({
              id: rule.id,
              name: rule.name,
              shortDescription: { text: rule.description },
              defaultConfiguration: { level: levels[rule.severity] },
              properties: {
                tags: ["security", "secret"],
                "security-severity": securitySeverity[rule.severity],
              },
            })),
          },
        },
        columnKind: "unicodeCodePoints",
        results,
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}
