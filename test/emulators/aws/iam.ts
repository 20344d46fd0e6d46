// IAM 2010-05-08: the role and inline-policy operations Latchkey uses to revoke sessions. The API
// reflects writes at once; request evaluation sees them after the configured propagation delay
// (none by default: real IAM is eventually consistent, which most tests cannot wait for).
import { authorize } from "./access.js";
import { AwsError } from "./errors.js";
import { isoSeconds } from "./ids.js";
import type { Operation, SignedContext } from "./operation.js";
import { compilePolicy, sizeWithoutWhitespace } from "./policy.js";
import { uriEncode } from "./sigv4.js";
import type { IamAction, Role } from "./state.js";
import { trustPolicyDocument } from "./trust.js";
import { patterns, Violations } from "./validation.js";
import { el, memberList, type Xml } from "./xml.js";

/** "Role policy size cannot exceed 10,240 characters", white space not counted, all inline policies. */
export const ROLE_POLICY_BUDGET = 10240;

function readRoleName(context: SignedContext, v: Violations): string {
  const name = context.params.get("RoleName");
  v.string(name, "roleName", { required: true, min: 1, max: 64, pattern: patterns.iamName });
  return name ?? "";
}

function readPolicyName(context: SignedContext, v: Violations): string {
  const name = context.params.get("PolicyName");
  v.string(name, "policyName", { required: true, min: 1, max: 128, pattern: patterns.iamName });
  return name ?? "";
}

/** Authorises `action` on the role (IAM evaluates permissions before it looks the role up), then finds it. */
function authorizedRole(context: SignedContext, action: string, roleName: string): Role {
  const { state, caller } = context;
  authorize(state, caller, action, `arn:aws:iam::${state.accountId}:role/${roleName}`, `role ${roleName}`);
  const role = state.role(roleName);
  if (role === undefined) {
    throw new AwsError("NoSuchEntity", `The role with name ${roleName} cannot be found.`);
  }
  return role;
}

function noSuchPolicy(policyName: string): AwsError {
  return new AwsError("NoSuchEntity", `The role policy with name ${policyName} cannot be found.`);
}

async function getRole(context: SignedContext): Promise<Xml[]> {
  const v = new Violations();
  const roleName = readRoleName(context, v);
  v.throwIfAny();
  const role = authorizedRole(context, "iam:GetRole", roleName);
  return [
    el(
      "Role",
      el("Path", "/"),
      el("AssumeRolePolicyDocument", uriEncode(trustPolicyDocument(role.trust))),
      el("MaxSessionDuration", String(role.maxSessionDurationSeconds)),
      el("RoleId", role.roleId),
      el("RoleLastUsed"),
      el("RoleName", role.name),
      el("Arn", role.arn),
      el("CreateDate", isoSeconds(role.createdAt)),
    ),
  ];
}

async function putRolePolicy(context: SignedContext): Promise<undefined> {
  const v = new Violations();
  const roleName = readRoleName(context, v);
  const policyName = readPolicyName(context, v);
  const document = context.params.get("PolicyDocument");
  v.string(document, "policyDocument", { required: true, min: 1, max: 131072, pattern: patterns.policyText });
  v.throwIfAny();
  const role = authorizedRole(context, "iam:PutRolePolicy", roleName);
  const text = document ?? "";
  const compiled = compilePolicy(text);
  let total = sizeWithoutWhitespace(text);
  for (const [name, policy] of role.inlinePolicies) {
    if (name !== policyName) total += sizeWithoutWhitespace(policy.document);
  }
  if (total > ROLE_POLICY_BUDGET) {
    throw new AwsError(
      "LimitExceeded",
      `Maximum policy size of ${ROLE_POLICY_BUDGET} bytes exceeded for role ${role.name}`,
    );
  }
  context.state.setInlinePolicy(role, policyName, { document: text, compiled });
  return undefined;
}

async function getRolePolicy(context: SignedContext): Promise<Xml[]> {
  const v = new Violations();
  const roleName = readRoleName(context, v);
  const policyName = readPolicyName(context, v);
  v.throwIfAny();
  const role = authorizedRole(context, "iam:GetRolePolicy", roleName);
  const policy = role.inlinePolicies.get(policyName);
  if (policy === undefined) throw noSuchPolicy(policyName);
  // "Policies returned by this operation are URL-encoded compliant with RFC 3986."
  return [
    el("RoleName", role.name),
    el("PolicyName", policyName),
    el("PolicyDocument", uriEncode(policy.document)),
  ];
}

async function deleteRolePolicy(context: SignedContext): Promise<undefined> {
  const v = new Violations();
  const roleName = readRoleName(context, v);
  const policyName = readPolicyName(context, v);
  v.throwIfAny();
  const role = authorizedRole(context, "iam:DeleteRolePolicy", roleName);
  if (!role.inlinePolicies.has(policyName)) throw noSuchPolicy(policyName);
  context.state.setInlinePolicy(role, policyName, undefined);
  return undefined;
}

async function listRolePolicies(context: SignedContext): Promise<Xml[]> {
  const v = new Violations();
  const roleName = readRoleName(context, v);
  const marker = context.params.get("Marker");
  v.string(marker, "marker", { min: 1, max: 320, pattern: patterns.marker });
  const maxItems = v.integer(context.params.get("MaxItems"), "maxItems", 1, 1000) ?? 100;
  v.throwIfAny();
  const role = authorizedRole(context, "iam:ListRolePolicies", roleName);
  const names = [...role.inlinePolicies.keys()].sort();
  // The marker is opaque to clients; here it is the name the next page starts at.
  const start =
    marker === undefined ? 0 : names.findIndex((name) => name >= Buffer.from(marker, "base64url").toString());
  const from = start < 0 ? names.length : start;
  const page = names.slice(from, from + maxItems);
  const next = names[from + maxItems];
  return [
    memberList("PolicyNames", page),
    el("IsTruncated", String(next !== undefined)),
    next === undefined ? undefined : el("Marker", Buffer.from(next).toString("base64url")),
  ].filter((x): x is Xml => x !== undefined);
}

export const iamOperations: Record<IamAction, Operation> = {
  GetRole: { signed: true, run: getRole },
  PutRolePolicy: { signed: true, run: putRolePolicy },
  GetRolePolicy: { signed: true, run: getRolePolicy },
  DeleteRolePolicy: { signed: true, run: deleteRolePolicy },
  ListRolePolicies: { signed: true, run: listRolePolicies },
};
