// Authorisation of a signed call. The broker's user key may do everything (it manages the
// revocation policy). A role session is allowed implicitly, as if the role's permissions granted
// every emulated action, and then refused by any explicit Deny in the role's inline policies or in
// its session policy, or by a session policy that does not allow the action: the parts of IAM's
// evaluation that revocation and scope-down depend on.
import { AwsError } from "./errors.js";
import { isoSeconds } from "./ids.js";
import { allows, explicitlyDenies, type RequestContext } from "./policy.js";
import type { Caller, EmulatorState, Session } from "./state.js";
import type { PrincipalView } from "./trust.js";

export function callerArn(caller: Caller): string {
  return caller.kind === "session" ? caller.session.arn : caller.user.arn;
}

export function principalView(caller: Caller, accountId: string): PrincipalView {
  return caller.kind === "session"
    ? { arn: caller.session.arn, roleArn: caller.session.role.arn, accountId }
    : { arn: caller.user.arn, accountId };
}

/** The global condition keys of a request signed by `session`, lower-cased. */
function conditionKeys(session: Session, nowMs: number): Map<string, string[]> {
  const keys = new Map<string, string[]>([
    ["aws:currenttime", [isoSeconds(nowMs)]],
    ["aws:principalarn", [session.role.arn]],
    ["aws:userid", [session.userId]],
    ["aws:tokenissuetime", [isoSeconds(session.issuedAt)]],
  ]);
  if (session.sourceIdentity !== undefined) keys.set("aws:sourceidentity", [session.sourceIdentity]);
  for (const tag of session.tags) keys.set(`aws:principaltag/${tag.key.toLowerCase()}`, [tag.value]);
  return keys;
}

/**
 * Throws AWS's `AccessDenied` when the caller may not perform `action` on `resource`;
 * `resourceLabel` is how the service names the resource in the message (IAM says `role <name>`).
 */
export function authorize(
  state: EmulatorState,
  caller: Caller,
  action: string,
  resource: string,
  resourceLabel: string,
): void {
  if (caller.kind !== "session") return;
  const session = caller.session;
  const request: RequestContext = { action, resource, keys: conditionKeys(session, state.now()) };
  const denied = (why: string) =>
    new AwsError(
      "AccessDenied",
      `User: ${session.arn} is not authorized to perform: ${action} on resource: ${resourceLabel} ${why}`,
    );
  for (const policy of state.enforcedPolicies(session.role)) {
    if (explicitlyDenies(policy, request)) {
      throw denied("with an explicit deny in an identity-based policy");
    }
  }
  const sessionPolicy = session.sessionPolicy;
  if (sessionPolicy === undefined) return;
  if (explicitlyDenies(sessionPolicy, request)) throw denied("with an explicit deny in a session policy");
  if (!allows(sessionPolicy, request)) throw denied(`because no session policy allows the ${action} action`);
}
