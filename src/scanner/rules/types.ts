import type { Severity } from "../finding.js";

export interface RuleContext {
  /** AWS account ids the scan was told are ours (12 digits each). */
  readonly awsAccounts: ReadonlySet<string>;
}

/** A secret a rule found in its window; offsets are into the window text. */
export interface RuleMatch {
  start: number;
  end: number;
  /** Overrides the rule's severity for this match (a Stripe test key is less urgent than a live one). */
  severity?: Severity;
  awsAccountId?: string;
  accountKnown?: boolean;
}

/**
 * A generic secret format. The engine never runs a rule over the whole input: it finds the rule's
 * keywords (case-insensitively, all rules at once), cuts a window from `before` bytes ahead of a
 * hit to `after` bytes past it (windows of nearby hits are merged, up to a bound), and hands the
 * rule that window as latin1 text (one character per byte, so offsets are byte offsets).
 *
 * `find` must do bounded work per hit: bounded quantifiers, no nested ones, and a boundary check
 * before anything expensive, so that input made of nothing but keywords stays linear.
 */
export interface Rule {
  /** Stable id: in findings, SARIF `ruleId`, redaction markers. */
  readonly id: string;
  /** PascalCase name for SARIF. */
  readonly name: string;
  readonly description: string;
  readonly severity: Severity;
  /** Lowercase ASCII; matched case-insensitively. */
  readonly keywords: readonly string[];
  readonly before: number;
  readonly after: number;
  /**
   * @param text the window, latin1-decoded
   * @param hits where a keyword of this rule starts in `text`, ascending
   */
  find(text: string, hits: readonly number[], context: RuleContext): RuleMatch[];
}
