// Role trust policies, built from the role spec rather than parsed, since tests only need the
// handful of shapes Latchkey uses: named AWS principals with sts:AssumeRole (plus sts:TagSession
// and sts:SetSourceIdentity), and one OIDC provider with optional `:aud`/`:sub` conditions.
import { isAccountId } from "./ids.js";
import { globMatcher } from "./policy.js";
import type { AwsRoleSpec } from "./types.js";

export interface WebIdentityTrust {
  readonly providerArn: string;
  readonly hostPath: string;
  readonly audience?: string;
  readonly subjectLike?: string;
}

export interface CompiledTrust {
  readonly principals: readonly string[];
  readonly tagSession: boolean;
  readonly setSourceIdentity: boolean;
  readonly webIdentity?: WebIdentityTrust;
}

/** The principal as trust policies see it: its own ARN and, for a role session, the role's. */
export interface PrincipalView {
  readonly arn: string;
  readonly roleArn?: string;
  readonly accountId: string;
}

/** IAM names an OIDC provider by its URL without the scheme: `host[:port]/path`. */
function providerHostPath(url: string): string {
  return url.replace(/^https?:\/\//, "").replace(/\/+$/, "");
}

export function providerArn(accountId: string, url: string): string {
  return `arn:aws:iam::${accountId}:oidc-provider/${providerHostPath(url)}`;
}

function checkPrincipal(principal: string): void {
  if (principal === "*") throw new TypeError('trust principals may not be "*"');
  const known =
    isAccountId(principal) ||
    /^arn:aws:iam::\d{12}:(root|user\/.+|role\/.+)$/.test(principal) ||
    /^arn:aws:sts::\d{12}:assumed-role\/[^/]+\/[^/]+$/.test(principal);
  if (!known) throw new TypeError(`unsupported trust principal ${JSON.stringify(principal)}`);
}

export function compileTrust(
  trust: AwsRoleSpec["trust"],
  context: { readonly accountId: string; readonly brokerArn: string },
): CompiledTrust {
  const principals = trust?.principals ?? [context.brokerArn];
  for (const principal of principals) checkPrincipal(principal);
  const compiled = {
    principals: [...principals],
    tagSession: trust?.tagSession ?? true,
    setSourceIdentity: trust?.setSourceIdentity ?? true,
  };
  const web = trust?.webIdentity;
  if (web === undefined) return compiled;
  const arn = web.provider.startsWith("arn:") ? web.provider : providerArn(context.accountId, web.provider);
  const prefix = `arn:aws:iam::${context.accountId}:oidc-provider/`;
  if (!arn.startsWith(prefix))
    throw new TypeError(`unsupported web identity provider ${JSON.stringify(web.provider)}`);
  const webIdentity: WebIdentityTrust = {
    providerArn: arn,
    hostPath: arn.slice(prefix.length),
    ...(web.audience === undefined ? {} : { audience: web.audience }),
    ...(web.subjectLike === undefined ? {} : { subjectLike: web.subjectLike }),
  };
  return { ...compiled, webIdentity };
}

export function trustsPrincipal(trust: CompiledTrust, principal: PrincipalView): boolean {
  return trust.principals.some(
    (p) =>
      p === principal.arn ||
      p === principal.roleArn ||
      p === principal.accountId ||
      p === `arn:aws:iam::${principal.accountId}:root`,
  );
}

export function trustsWebIdentity(
  trust: CompiledTrust,
  providerArnValue: string,
  claims: { readonly audience: string; readonly subject: string },
): boolean {
  const web = trust.webIdentity;
  if (web === undefined || web.providerArn !== providerArnValue) return false;
  if (web.audience !== undefined && web.audience !== claims.audience) return false;
  return web.subjectLike === undefined || globMatcher([web.subjectLike], false)(claims.subject);
}

function sessionActions(trust: CompiledTrust, base: string): string | string[] {
  const actions = [base];
  if (trust.tagSession) actions.push("sts:TagSession");
  if (trust.setSourceIdentity) actions.push("sts:SetSourceIdentity");
  return actions.length === 1 ? base : actions;
}

/** The trust policy as GetRole reports it (`AssumeRolePolicyDocument`, before URL-encoding). */
export function trustPolicyDocument(trust: CompiledTrust): string {
  const statements: unknown[] = [];
  if (trust.principals.length > 0) {
    statements.push({
      Effect: "Allow",
      Principal: { AWS: trust.principals.length === 1 ? trust.principals[0] : trust.principals },
      Action: sessionActions(trust, "sts:AssumeRole"),
    });
  }
  const web = trust.webIdentity;
  if (web !== undefined) {
    const condition: Record<string, Record<string, string>> = {};
    if (web.audience !== undefined) condition.StringEquals = { [`${web.hostPath}:aud`]: web.audience };
    if (web.subjectLike !== undefined) condition.StringLike = { [`${web.hostPath}:sub`]: web.subjectLike };
    statements.push({
      Effect: "Allow",
      Principal: { Federated: web.providerArn },
      Action: sessionActions(trust, "sts:AssumeRoleWithWebIdentity"),
      ...(Object.keys(condition).length === 0 ? {} : { Condition: condition }),
    });
  }
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}
