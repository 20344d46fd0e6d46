// STS 2011-06-15: AssumeRole, AssumeRoleWithWebIdentity, GetCallerIdentity, with the constraints
// real STS enforces (model constraints, trust policy, session tags and source identity rules, role
// chaining, session policy size and packing) and its result documents.
import { authorize, callerArn, principalView } from "./access.js";
import { AwsError } from "./errors.js";
import { isoSeconds } from "./ids.js";
import { verifyWebIdentityToken } from "./oidc.js";
import type { Operation, SignedContext, UnsignedContext } from "./operation.js";
import { measurePacked } from "./packing.js";
import { type CompiledPolicy, compilePolicy } from "./policy.js";
import type { QueryParams } from "./query.js";
import type { Caller, EmulatorState, Role, StsAction, Tag } from "./state.js";
import { trustsPrincipal, trustsWebIdentity } from "./trust.js";
import { patterns, Violations } from "./validation.js";
import { el, type Xml } from "./xml.js";

const CHAINED_MAX_SECONDS = 3600;
const DEFAULT_DURATION_SECONDS = 3600;
const ANY_ARN = /^arn:[^:]+:[^:]+:[^:]*:[^:]*:.+$/;

interface SessionParameters {
  readonly roleArn: string;
  readonly sessionName: string;
  readonly durationSeconds: number | undefined;
  readonly policy: string | undefined;
  readonly policyArns: readonly string[];
  readonly minimumTokenSize: number;
}

/** Parameters AssumeRole and AssumeRoleWithWebIdentity share, checked into `v`. */
function readSessionParameters(params: QueryParams, v: Violations): SessionParameters {
  const roleArn = params.get("RoleArn");
  const sessionName = params.get("RoleSessionName");
  v.string(roleArn, "roleArn", { required: true, min: 20, max: 2048 });
  v.string(sessionName, "roleSessionName", {
    required: true,
    min: 2,
    max: 64,
    pattern: patterns.sessionName,
  });
  const durationSeconds = v.integer(params.get("DurationSeconds"), "durationSeconds", 900, 43200);
  const policy = params.get("Policy");
  v.string(policy, "policy", { min: 1, max: 2048, pattern: patterns.policyText });
  const arns = params.structures("PolicyArns", ["arn"]) ?? [];
  arns.forEach((entry, i) => {
    v.string(entry.arn, `policyArns.${i + 1}.member.arn`, { required: true, min: 20, max: 2048 });
  });
  const policyArns = arns.map((entry) => entry.arn ?? "");
  v.listLength(policyArns, "policyArns", 10);
  const minimumTokenSize =
    v.integer(params.get("MinimumSessionTokenSize"), "minimumSessionTokenSize", 0, 4096) ?? 0;
  return {
    roleArn: roleArn ?? "",
    sessionName: sessionName ?? "",
    durationSeconds,
    policy,
    policyArns,
    minimumTokenSize,
  };
}

function readTags(params: QueryParams, v: Violations): { tags: Tag[]; transitiveKeys: string[] } {
  const entries = params.structures("Tags", ["Key", "Value"]) ?? [];
  entries.forEach((tag, i) => {
    v.string(tag.Key, `tags.${i + 1}.member.key`, {
      required: true,
      min: 1,
      max: 128,
      pattern: patterns.tagKey,
    });
    v.string(tag.Value, `tags.${i + 1}.member.value`, {
      required: true,
      max: 256,
      pattern: patterns.tagValue,
    });
  });
  const tags = entries.map((tag) => ({ key: tag.Key ?? "", value: tag.Value ?? "" }));
  v.listLength(
    tags.map((t) => `${t.key}=${t.value}`),
    "tags",
    50,
  );
  const transitiveKeys = params.strings("TransitiveTagKeys") ?? [];
  transitiveKeys.forEach((key, i) => {
    v.string(key, `transitiveTagKeys.${i + 1}.member`, { min: 1, max: 128, pattern: patterns.tagKey });
  });
  v.listLength(transitiveKeys, "transitiveTagKeys", 50);
  return { tags, transitiveKeys };
}

function invalidParameter(message: string): AwsError {
  return new AwsError("InvalidParameterValue", message);
}

/** Tag rules that need no authorisation: duplicates, transitive keys, inherited transitive tags. */
function checkTagRules(
  tags: readonly Tag[],
  transitiveKeys: readonly string[],
  inherited: readonly string[],
): void {
  const keys = tags.map((t) => t.key.toLowerCase());
  if (new Set(keys).size !== keys.length) {
    throw invalidParameter("Duplicate tag keys found. Please note that Tag keys are case insensitive.");
  }
  if (transitiveKeys.some((key) => !keys.includes(key.toLowerCase()))) {
    throw invalidParameter("The specified transitive tag key must be included in the requested tags.");
  }
  if (keys.some((key) => inherited.includes(key))) {
    throw invalidParameter(
      "One of the specified transitive tag keys can't be set because it conflicts with a transitive tag key from the calling session.",
    );
  }
}

function findRole(state: EmulatorState, roleArn: string): Role | undefined {
  const name = roleArn.slice(roleArn.lastIndexOf("/") + 1);
  const role = state.role(name);
  return role !== undefined && role.arn.toLowerCase() === roleArn.toLowerCase() ? role : undefined;
}

function durationFor(role: Role, requested: number | undefined, chained: boolean): number {
  const duration = requested ?? DEFAULT_DURATION_SECONDS;
  if (chained && duration > CHAINED_MAX_SECONDS) {
    throw new AwsError(
      "ValidationError",
      "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
    );
  }
  if (duration > role.maxSessionDurationSeconds) {
    throw new AwsError(
      "ValidationError",
      "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
    );
  }
  return duration;
}

interface NewSession {
  readonly role: Role;
  readonly request: SessionParameters;
  readonly sessionPolicy: CompiledPolicy | undefined;
  readonly duration: number;
  readonly sourceIdentity: string | undefined;
  readonly tags: readonly Tag[];
  readonly transitiveTagKeys: readonly string[];
}

/** Packing check, then the credentials and the result members both AssumeRole calls return. */
function issue(state: EmulatorState, fields: NewSession): Xml[] {
  const packed = measurePacked(
    fields.request.policy,
    fields.request.policyArns,
    fields.tags,
    state.packedPolicyLimit,
  );
  if (packed.policyPercent > 100) {
    throw new AwsError(
      "PackedPolicyTooLarge",
      `Packed policy consumes ${packed.policyPercent}% of allotted space`,
    );
  }
  if (packed.tagsPercent > 100) {
    throw new AwsError(
      "PackedPolicyTooLarge",
      `Packed size of session tags consumes ${packed.tagsPercent}% of allotted space.`,
    );
  }
  const now = state.now();
  const session = state.issueSession(
    {
      issuedAt: now,
      expiresAt: now + fields.duration * 1000,
      role: fields.role,
      sessionName: fields.request.sessionName,
      ...(fields.sourceIdentity === undefined ? {} : { sourceIdentity: fields.sourceIdentity }),
      tags: fields.tags,
      transitiveTagKeys: fields.transitiveTagKeys,
      ...(fields.sessionPolicy === undefined ? {} : { sessionPolicy: fields.sessionPolicy }),
    },
    { packedBytes: packed.bytes, minimumSize: fields.request.minimumTokenSize },
  );
  const utilization = String(Math.max(packed.policyPercent, packed.tagsPercent));
  return [
    el(
      "Credentials",
      el("AccessKeyId", session.accessKeyId),
      el("SecretAccessKey", session.secretAccessKey),
      el("SessionToken", session.sessionToken),
      el("Expiration", isoSeconds(session.expiresAt)),
    ),
    el("AssumedRoleUser", el("AssumedRoleId", session.userId), el("Arn", session.arn)),
    el("PackedPolicySize", utilization),
    session.sourceIdentity === undefined ? undefined : el("SourceIdentity", session.sourceIdentity),
    el("SessionTokenUtilization", utilization),
    el("SessionTokenSize", String(Buffer.byteLength(session.sessionToken))),
  ].filter((x): x is Xml => x !== undefined);
}

function compileSessionPolicy(policy: string | undefined): CompiledPolicy | undefined {
  return policy === undefined ? undefined : compilePolicy(policy);
}

function notAuthorized(caller: Caller, action: string, roleArn: string): AwsError {
  return new AwsError(
    "AccessDenied",
    `User: ${callerArn(caller)} is not authorized to perform: ${action} on resource: ${roleArn}`,
  );
}

async function assumeRole({ params, caller, state }: SignedContext): Promise<Xml[]> {
  const v = new Violations();
  const request = readSessionParameters(params, v);
  const { tags: requestedTags, transitiveKeys } = readTags(params, v);
  v.string(params.get("ExternalId"), "externalId", { min: 2, max: 1224, pattern: patterns.externalId });
  v.string(params.get("SerialNumber"), "serialNumber", { min: 9, max: 256, pattern: patterns.serialNumber });
  v.string(params.get("TokenCode"), "tokenCode", { min: 6, max: 6, pattern: patterns.tokenCode });
  const requestedSourceIdentity = params.get("SourceIdentity");
  v.string(requestedSourceIdentity, "sourceIdentity", { min: 2, max: 64, pattern: patterns.sessionName });
  v.throwIfAny();
  if (!ANY_ARN.test(request.roleArn)) throw new AwsError("ValidationError", `${request.roleArn} is invalid`);
  checkTagRules(
    requestedTags,
    transitiveKeys,
    caller.kind === "session" ? caller.session.transitiveTagKeys : [],
  );

  const roleArn = request.roleArn;
  authorize(state, caller, "sts:AssumeRole", roleArn, roleArn);
  const role = findRole(state, roleArn);
  if (role === undefined || !trustsPrincipal(role.trust, principalView(caller, state.accountId))) {
    throw notAuthorized(caller, "sts:AssumeRole", roleArn);
  }

  const parent = caller.kind === "session" ? caller.session : undefined;
  const inheritedTags =
    parent?.tags.filter((t) => parent.transitiveTagKeys.includes(t.key.toLowerCase())) ?? [];
  const tags = [...inheritedTags, ...requestedTags];
  if (tags.length > 0) {
    if (!role.trust.tagSession) throw notAuthorized(caller, "sts:TagSession", roleArn);
    authorize(state, caller, "sts:TagSession", roleArn, roleArn);
  }
  const sourceIdentity = parent?.sourceIdentity ?? requestedSourceIdentity;
  if (sourceIdentity !== undefined) {
    if (!role.trust.setSourceIdentity) throw notAuthorized(caller, "sts:SetSourceIdentity", roleArn);
    authorize(state, caller, "sts:SetSourceIdentity", roleArn, roleArn);
  }
  if (requestedSourceIdentity !== undefined && requestedSourceIdentity !== sourceIdentity) {
    throw new AwsError("ValidationError", "The source identity is already set for this assume role session");
  }

  const duration = durationFor(role, request.durationSeconds, parent !== undefined);
  return issue(state, {
    role,
    request,
    sessionPolicy: compileSessionPolicy(request.policy),
    duration,
    sourceIdentity,
    tags,
    transitiveTagKeys: [
      ...new Set([...(parent?.transitiveTagKeys ?? []), ...transitiveKeys.map((k) => k.toLowerCase())]),
    ],
  });
}

async function assumeRoleWithWebIdentity({ params, state }: UnsignedContext): Promise<Xml[]> {
  const v = new Violations();
  const request = readSessionParameters(params, v);
  const token = params.get("WebIdentityToken");
  v.string(token, "webIdentityToken", { required: true, min: 4, max: 20000 });
  v.string(params.get("ProviderId"), "providerId", { min: 4, max: 2048 });
  v.throwIfAny();
  if (!ANY_ARN.test(request.roleArn)) throw new AwsError("ValidationError", `${request.roleArn} is invalid`);

  const identity = await verifyWebIdentityToken(state, token ?? "");
  const role = findRole(state, request.roleArn);
  const denied = (action: string) => new AwsError("AccessDenied", `Not authorized to perform ${action}`);
  if (role === undefined || !trustsWebIdentity(role.trust, identity.provider.arn, identity)) {
    throw denied("sts:AssumeRoleWithWebIdentity");
  }
  if (identity.tags.length > 0 && !role.trust.tagSession) throw denied("sts:TagSession");
  if (identity.sourceIdentity !== undefined && !role.trust.setSourceIdentity) {
    throw denied("sts:SetSourceIdentity");
  }

  // Claims are held to the same constraints as the AssumeRole parameters they stand for.
  const claims = new Violations();
  claims.string(identity.sourceIdentity, "sourceIdentity", {
    min: 2,
    max: 64,
    pattern: patterns.sessionName,
  });
  identity.tags.forEach((tag, i) => {
    claims.string(tag.key, `tags.${i + 1}.member.key`, { min: 1, max: 128, pattern: patterns.tagKey });
    claims.string(tag.value, `tags.${i + 1}.member.value`, { max: 256, pattern: patterns.tagValue });
  });
  claims.throwIfAny();
  checkTagRules(identity.tags, identity.transitiveTagKeys, []);

  const duration = durationFor(role, request.durationSeconds, false);
  const result = issue(state, {
    role,
    request,
    sessionPolicy: compileSessionPolicy(request.policy),
    duration,
    sourceIdentity: identity.sourceIdentity,
    tags: identity.tags,
    transitiveTagKeys: identity.transitiveTagKeys.map((k) => k.toLowerCase()),
  });
  return [
    ...result,
    el("SubjectFromWebIdentityToken", identity.subject),
    el("Audience", identity.audience),
    el("Provider", identity.issuer),
  ];
}

// Always allowed, even for a session every policy denies: AWS documents that no permission is
// needed and an explicit deny does not apply, so it cannot prove a revocation.
async function getCallerIdentity({ caller, state }: SignedContext): Promise<Xml[]> {
  const userId = caller.kind === "session" ? caller.session.userId : caller.user.userId;
  return [el("UserId", userId), el("Account", state.accountId), el("Arn", callerArn(caller))];
}

export const stsOperations: Record<StsAction, Operation> = {
  AssumeRole: { signed: true, run: assumeRole },
  AssumeRoleWithWebIdentity: { signed: false, run: assumeRoleWithWebIdentity },
  GetCallerIdentity: { signed: true, run: getCallerIdentity },
};
