// The leak scanner's public surface: the broker's scan endpoint and `latchkey scan` use these.

export { runScanCommand, type ScanIo } from "./cli.js";
export {
  createScanner,
  type Scanner,
  type ScannerOptions,
  type ScanOptions,
  type ScanResult,
  type ScanSource,
  type ScanStats,
} from "./engine.js";
export { type Finding, ISSUED_RULE_ID, redactionMarker, type Severity } from "./finding.js";
export {
  buildMatchers,
  type IssuedMatcher,
  issuedMatcherSchema,
  type MatcherRef,
  type SecretEncoding,
} from "./matchers.js";
export { formatJson, formatText, type ScanSummary, summarize } from "./report.js";
export { defaultRules, type Rule, type RuleContext, type RuleMatch } from "./rules/index.js";
export { formatSarif } from "./sarif.js";
