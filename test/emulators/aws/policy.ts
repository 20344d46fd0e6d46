// Identity-based policies (role inline policies, session policies): parsed strictly with IAM's
// grammar and messages, compiled once, then evaluated per request. Only what Latchkey's
// revocation relies on is evaluated; a condition operator outside that set is refused when the
// policy is stored, so a test can never silently pass on a condition the emulator ignored.
import { AwsError } from "./errors.js";

export interface RequestContext {
  readonly action: string;
  readonly resource: string;
  /** Condition keys, lower-cased (AWS compares key names case-insensitively). */
  readonly keys: ReadonlyMap<string, readonly string[]>;
}

type Matcher = (value: string) => boolean;

interface CompiledCondition {
  readonly test: (keys: ReadonlyMap<string, readonly string[]>) => boolean;
}

interface CompiledStatement {
  readonly effect: "Allow" | "Deny";
  readonly actions: { readonly negated: boolean; readonly match: Matcher };
  readonly resources: { readonly negated: boolean; readonly match: Matcher };
  readonly conditions: readonly CompiledCondition[];
}

export interface CompiledPolicy {
  readonly statements: readonly CompiledStatement[];
}

function malformed(message: string): AwsError {
  return new AwsError("MalformedPolicyDocument", message);
}

const SYNTAX = "Syntax errors in policy.";

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function stringList(value: unknown): string[] {
  const items = Array.isArray(value) ? value : [value];
  if (items.length === 0 || items.some((item) => typeof item !== "string")) throw malformed(SYNTAX);
  return items as string[];
}

/** `*` matches any run of characters and `?` any one, the whole value, as in IAM. */
export function globMatcher(patterns: readonly string[], ignoreCase: boolean): Matcher {
  const regexes = patterns.map(
    (p) =>
      new RegExp(
        `^${p
          .replace(/[.+^${}()|[\]\\]/g, "\\$&")
          .replace(/\*/g, ".*")
          .replace(/\?/g, ".")}$`,
        ignoreCase ? "is" : "s",
      ),
  );
  return (value) => regexes.some((r) => r.test(value));
}

function compileActions(value: unknown): Matcher {
  const actions = stringList(value);
  for (const action of actions) {
    if (action === "*") continue;
    const colons = action.split(":").length - 1;
    if (colons === 0)
      throw malformed("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.");
    if (colons > 1) throw malformed("Actions/Condition can contain only one colon.");
    if (!/^[A-Za-z0-9-]+:[A-Za-z0-9*?]+$/.test(action)) throw malformed(SYNTAX);
  }
  return globMatcher(actions, true);
}

function compileResources(value: unknown): Matcher {
  const resources = stringList(value);
  for (const resource of resources) {
    if (resource !== "*" && !resource.startsWith("arn:")) {
      throw malformed(`Resource ${resource} must be in ARN format or "*".`);
    }
  }
  return globMatcher(resources, false);
}

function dateValue(text: string): number {
  return /^\d+$/.test(text) ? Number(text) * 1000 : Date.parse(text);
}

type Operator = (requestValues: readonly string[] | undefined, policyValues: readonly string[]) => boolean;

const anyEquals = (a: readonly string[], b: readonly string[]) => a.some((x) => b.includes(x));
const anyLike = (a: readonly string[], b: readonly string[]) => a.some(globMatcher(b, false));
const dateCompare =
  (holds: (request: number, policy: number) => boolean): Operator =>
  (values, policyValues) =>
    values?.some((v) => policyValues.some((p) => holds(dateValue(v), dateValue(p)))) === true;

// Single-valued operators look at the key's one value; an absent key never matches, except under
// a negated operator, where it always does (IAM's documented semantics).
const operators: Record<string, Operator> = {
  StringEquals: (values, p) => values !== undefined && anyEquals(values, p),
  StringNotEquals: (values, p) => values === undefined || !anyEquals(values, p),
  StringLike: (values, p) => values !== undefined && anyLike(values, p),
  StringNotLike: (values, p) => values === undefined || !anyLike(values, p),
  "ForAnyValue:StringEquals": (values, p) => values !== undefined && anyEquals(values, p),
  "ForAnyValue:StringLike": (values, p) => values !== undefined && anyLike(values, p),
  DateLessThan: dateCompare((request, policy) => request < policy),
  DateGreaterThan: dateCompare((request, policy) => request > policy),
  Null: (values, p) => p.some((flag) => (flag === "true") === (values === undefined)),
};

function compileConditions(value: unknown): CompiledCondition[] {
  if (value === undefined) return [];
  if (!isRecord(value)) throw malformed(SYNTAX);
  const compiled: CompiledCondition[] = [];
  for (const [operatorName, block] of Object.entries(value)) {
    const operator = operators[operatorName];
    if (operator === undefined) {
      throw malformed(`The AWS emulator does not evaluate the condition operator ${operatorName}`);
    }
    if (!isRecord(block)) throw malformed(SYNTAX);
    for (const [key, raw] of Object.entries(block)) {
      const policyValues = (Array.isArray(raw) ? raw : [raw]).map((v) =>
        typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? String(v) : undefined,
      );
      if (policyValues.length === 0 || policyValues.includes(undefined)) throw malformed(SYNTAX);
      const lowered = key.toLowerCase();
      const values = policyValues as string[];
      if (operatorName.startsWith("Date") && values.some((v) => Number.isNaN(dateValue(v)))) {
        throw malformed(SYNTAX);
      }
      compiled.push({ test: (keys) => operator(keys.get(lowered), values) });
    }
  }
  return compiled;
}

const STATEMENT_KEYS = new Set([
  "Sid",
  "Effect",
  "Action",
  "NotAction",
  "Resource",
  "NotResource",
  "Condition",
  "Principal",
  "NotPrincipal",
]);

function compileStatement(statement: unknown): CompiledStatement {
  if (!isRecord(statement)) throw malformed(SYNTAX);
  if (Object.keys(statement).some((key) => !STATEMENT_KEYS.has(key))) throw malformed(SYNTAX);
  if ("Principal" in statement || "NotPrincipal" in statement) {
    throw malformed("Policy document should not specify a principal.");
  }
  const effect = statement.Effect;
  if (effect === undefined) throw malformed("Missing required field Effect");
  if (effect !== "Allow" && effect !== "Deny") throw malformed(SYNTAX);
  if ("Action" in statement === "NotAction" in statement) {
    throw malformed("Action" in statement ? SYNTAX : "Policy statement must contain actions.");
  }
  if ("Resource" in statement === "NotResource" in statement) {
    throw malformed("Resource" in statement ? SYNTAX : "Policy statement must contain resources.");
  }
  return {
    effect,
    actions: {
      negated: "NotAction" in statement,
      match: compileActions(statement.Action ?? statement.NotAction),
    },
    resources: {
      negated: "NotResource" in statement,
      match: compileResources(statement.Resource ?? statement.NotResource),
    },
    conditions: compileConditions(statement.Condition),
  };
}

/** Parses and checks an identity-based policy; every problem is `MalformedPolicyDocument`. */
export function compilePolicy(text: string): CompiledPolicy {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw malformed("This policy contains invalid Json");
  }
  if (document === null) throw malformed("This text appears not to be a policy");
  if (!isRecord(document)) throw malformed("This policy contains invalid Json");
  if (Object.keys(document).some((key) => key !== "Version" && key !== "Id" && key !== "Statement")) {
    throw malformed(SYNTAX);
  }
  if (
    document.Version !== undefined &&
    document.Version !== "2012-10-17" &&
    document.Version !== "2008-10-17"
  ) {
    throw malformed("The policy must contain a valid version string");
  }
  if (document.Statement === undefined) throw malformed("Missing required field Statement");
  const statements = Array.isArray(document.Statement) ? document.Statement : [document.Statement];
  if (statements.length === 0) throw malformed("Could not parse the policy: Statement is empty!");
  return { statements: statements.map(compileStatement) };
}

function applies(statement: CompiledStatement, request: RequestContext): boolean {
  return (
    statement.actions.match(request.action) !== statement.actions.negated &&
    statement.resources.match(request.resource) !== statement.resources.negated &&
    statement.conditions.every((condition) => condition.test(request.keys))
  );
}

export function explicitlyDenies(policy: CompiledPolicy, request: RequestContext): boolean {
  return policy.statements.some((s) => s.effect === "Deny" && applies(s, request));
}

export function allows(policy: CompiledPolicy, request: RequestContext): boolean {
  return policy.statements.some((s) => s.effect === "Allow" && applies(s, request));
}

/**
 * The size IAM counts against its quotas: the document without white space. White space inside
 * string values is content, so only the JSON layout around tokens is dropped.
 */
export function sizeWithoutWhitespace(text: string): number {
  let size = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (inString) {
      size++;
      if (c === "\\") {
        size++;
        i++;
      } else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      size++;
    } else if (!/\s/.test(c)) size++;
  }
  return size;
}
