// Model constraints (lengths, ranges, patterns from the STS and IAM service models), reported the
// way AWS's request validator does: every violation of the request is collected into one
// `ValidationError` "N validation error(s) detected: Value '…' at '<camelCasePath>' failed to
// satisfy constraint: …", joined with "; ".
import { AwsError } from "./errors.js";

export interface Pattern {
  /** The pattern as AWS prints it in the message. */
  readonly text: string;
  readonly regex: RegExp;
}

export const patterns = {
  sessionName: { text: "[\\w+=,.@-]*", regex: /^[\w+=,.@-]*$/ },
  iamName: { text: "[\\w+=,.@-]+", regex: /^[\w+=,.@-]+$/ },
  tagKey: { text: "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+", regex: /^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$/u },
  tagValue: { text: "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*", regex: /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u },
  externalId: { text: "[\\w+=,.@:\\/-]*", regex: /^[\w+=,.@:/-]*$/ },
  serialNumber: { text: "[\\w+=/:,.@-]*", regex: /^[\w+=/:,.@-]*$/ },
  tokenCode: { text: "[\\d]*", regex: /^\d*$/ },
  policyText: {
    text: "[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+",
    regex: /^[\t\n\r\u0020-\u00FF]+$/,
  },
  marker: { text: "[\\u0020-\\u00FF]+", regex: /^[\u0020-\u00FF]+$/ },
} as const satisfies Record<string, Pattern>;

export interface StringRules {
  readonly required?: boolean;
  readonly min?: number;
  readonly max?: number;
  readonly pattern?: Pattern;
}

export class Violations {
  readonly #items: string[] = [];

  add(value: string | null, path: string, constraint: string): void {
    const shown = value === null ? "null" : `'${value}'`;
    this.#items.push(`Value ${shown} at '${path}' failed to satisfy constraint: ${constraint}`);
  }

  /** Checks one string parameter; an absent optional parameter passes. */
  string(value: string | undefined, path: string, rules: StringRules): void {
    if (value === undefined) {
      if (rules.required === true) this.add(null, path, "Member must not be null");
      return;
    }
    const length = [...value].length;
    if (rules.min !== undefined && length < rules.min) {
      this.add(value, path, `Member must have length greater than or equal to ${rules.min}`);
    }
    if (rules.max !== undefined && length > rules.max) {
      this.add(value, path, `Member must have length less than or equal to ${rules.max}`);
    }
    if (rules.pattern !== undefined && !rules.pattern.regex.test(value)) {
      this.add(value, path, `Member must satisfy regular expression pattern: ${rules.pattern.text}`);
    }
  }

  /** Checks an optional integer parameter and returns it when it is one. */
  integer(raw: string | undefined, path: string, min: number, max: number): number | undefined {
    if (raw === undefined) return undefined;
    if (!/^-?\d+$/.test(raw)) {
      this.add(raw, path, "Member must be an integer");
      return undefined;
    }
    const value = Number(raw);
    if (value < min) this.add(raw, path, `Member must have value greater than or equal to ${min}`);
    if (value > max) this.add(raw, path, `Member must have value less than or equal to ${max}`);
    return value;
  }

  /** Checks the number of members of an optional list. */
  listLength(items: readonly string[] | undefined, path: string, max: number): void {
    if (items !== undefined && items.length > max) {
      this.add(`[${items.join(", ")}]`, path, `Member must have length less than or equal to ${max}`);
    }
  }

  throwIfAny(): void {
    const count = this.#items.length;
    if (count === 0) return;
    const head = count === 1 ? "1 validation error detected" : `${count} validation errors detected`;
    throw new AwsError("ValidationError", `${head}: ${this.#items.join("; ")}`);
  }
}
