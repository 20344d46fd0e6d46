import { isDeepStrictEqual } from "node:util";
import { asList, widening } from "../narrowing.js";
import type { AwsGrant, AwsNarrow, PolicyDocument, PolicyStatement } from "./grant.js";

/**
 * Whether every string `inner` can match is matched by `outer` (IAM wildcards `*` and `?`).
 * `inner`'s own wildcards must fall inside a wildcard of `outer`, so `s3:Get*` is within `s3:*`
 * but `s3:*` is not within `s3:Get*`.
 */
export function patternWithin(inner: string, outer: string, caseInsensitive: boolean): boolean {
  const escaped = outer
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, "[^*]");
  return new RegExp(`^${escaped}$`, caseInsensitive ? "is" : "s").test(inner);
}

const within = (inner: string[], outer: string[], caseInsensitive: boolean) =>
  inner.every((i) => outer.some((o) => patternWithin(i, o, caseInsensitive)));

/** A requested Allow is within a granted Allow when its actions, resources and conditions are. */
function allowWithin(request: PolicyStatement, grant: PolicyStatement): boolean {
  if (grant.Effect !== "Allow" || grant.Action === undefined || grant.Resource === undefined) return false;
  if (request.Action === undefined || request.Resource === undefined) return false;
  if (!within(asList(request.Action), asList(grant.Action), true)) return false;
  if (!within(asList(request.Resource), asList(grant.Resource), false)) return false;
  // Every condition the grant imposes must be imposed, unchanged, by the request too.
  for (const [operator, keys] of Object.entries(grant.Condition ?? {})) {
    for (const [key, value] of Object.entries(keys)) {
      if (!isDeepStrictEqual(request.Condition?.[operator]?.[key], value)) return false;
    }
  }
  return true;
}

/**
 * The session policy for a narrowed request: the request's statements, each checked to lie
 * within the grant's policy, plus the grant's Deny statements. STS takes a single inline policy,
 * so the intersection is built rather than sent as two documents.
 */
export function narrowPolicy(grant: PolicyDocument | undefined, request: PolicyDocument): PolicyDocument {
  request.Statement.forEach((statement, index) => {
    const field = `narrow.sessionPolicy.Statement[${index}]`;
    if (statement.Effect === "Deny") return;
    if (statement.NotAction !== undefined || statement.NotResource !== undefined) {
      throw widening(
        field,
        "NotAction and NotResource cannot be proven narrower than the grant; list actions and resources",
      );
    }
    if (grant && !grant.Statement.some((g) => allowWithin(statement, g))) {
      throw widening(field, "allows an action, resource or condition outside the grant's session policy");
    }
  });
  const grantDenies = grant?.Statement.filter((s) => s.Effect === "Deny") ?? [];
  return { Version: "2012-10-17", Statement: [...request.Statement, ...grantDenies] };
}

export function narrowAwsGrant(grant: AwsGrant, request: AwsNarrow): AwsGrant {
  const narrowed: AwsGrant = { ...grant };
  if (request.durationSeconds !== undefined) {
    if (request.durationSeconds > grant.durationSeconds) {
      throw widening("narrow.durationSeconds", `the grant allows at most ${grant.durationSeconds} seconds`);
    }
    narrowed.durationSeconds = request.durationSeconds;
  }
  if (request.sessionPolicy !== undefined)
    narrowed.sessionPolicy = narrowPolicy(grant.sessionPolicy, request.sessionPolicy);
  return narrowed;
}
