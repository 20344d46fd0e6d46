// Everything one emulator instance knows: its account, the broker's key, roles with their inline
// policies, OIDC providers, the temporary credentials it issued, injected failures and the request
// log. Nothing here is module-global, so emulators in one process never see each other.
import { AwsError, type AwsErrorCode, isAwsErrorCode } from "./errors.js";
import { isAccountId, newKeyId, newSecretAccessKey, newSessionToken, newUniqueId } from "./ids.js";
import type { CompiledPolicy } from "./policy.js";
import { type CompiledTrust, compileTrust, providerArn } from "./trust.js";
import type { AwsRoleSpec } from "./types.js";
import type { Service } from "./xml.js";

export interface Tag {
  readonly key: string;
  readonly value: string;
}

export interface InlinePolicy {
  readonly document: string;
  readonly compiled: CompiledPolicy;
}

export interface Role {
  readonly name: string;
  readonly arn: string;
  readonly roleId: string;
  readonly createdAt: number;
  readonly maxSessionDurationSeconds: number;
  readonly trust: CompiledTrust;
  /** What IAM's API reports: every write applies here at once. Change it through `setInlinePolicy`. */
  readonly inlinePolicies: Map<string, InlinePolicy>;
  /**
   * What request evaluation sees: snapshots of `inlinePolicies`, each in force from `from`, so a
   * propagation delay can be emulated. The first one is always in force.
   */
  readonly enforced: Array<{ readonly from: number; readonly policies: readonly CompiledPolicy[] }>;
}

export interface Session {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly issuedAt: number;
  readonly expiresAt: number;
  readonly role: Role;
  readonly sessionName: string;
  /** `arn:aws:sts::<acct>:assumed-role/<role>/<session>` */
  readonly arn: string;
  /** `<role id>:<session name>`, the `aws:userid` of the session. */
  readonly userId: string;
  readonly sourceIdentity?: string;
  readonly tags: readonly Tag[];
  /** Lower-cased keys of the tags that pass on to chained sessions. */
  readonly transitiveTagKeys: readonly string[];
  readonly sessionPolicy?: CompiledPolicy;
}

export interface BrokerUser {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly arn: string;
  readonly userId: string;
  readonly userName: string;
}

export type Caller =
  | { readonly kind: "user"; readonly user: BrokerUser }
  | { readonly kind: "session"; readonly session: Session };

export interface OidcProvider {
  readonly url: string;
  readonly arn: string;
  readonly audiences: readonly string[];
}

export interface RequestRecord {
  service: Service;
  action: string;
  status: number;
  accessKeyId?: string;
}

export const STS_ACTIONS = ["AssumeRole", "AssumeRoleWithWebIdentity", "GetCallerIdentity"] as const;
export const IAM_ACTIONS = [
  "GetRole",
  "PutRolePolicy",
  "GetRolePolicy",
  "DeleteRolePolicy",
  "ListRolePolicies",
] as const;
export type StsAction = (typeof STS_ACTIONS)[number];
export type IamAction = (typeof IAM_ACTIONS)[number];

const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const BROKER_USER_NAME = "latchkey-broker";

export class EmulatorState {
  readonly accountId: string;
  readonly region: string;
  readonly now: () => number;
  readonly packedPolicyLimit: number;
  readonly policyPropagationDelayMs: number;
  readonly broker: BrokerUser;
  readonly requests: RequestRecord[] = [];
  readonly #roles = new Map<string, Role>();
  readonly #sessions = new Map<string, Session>();
  readonly #providers = new Map<string, OidcProvider>();
  readonly #failures = new Map<string, { code: AwsErrorCode; remaining: number }[]>();

  constructor(options: {
    accountId: string;
    region: string;
    now: () => number;
    packedPolicyLimit: number;
    policyPropagationDelayMs: number;
  }) {
    if (!isAccountId(options.accountId)) throw new TypeError("accountId must be 12 digits");
    if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(options.region))
      throw new TypeError(`invalid region ${options.region}`);
    if (!(options.packedPolicyLimit > 0)) throw new TypeError("packedPolicyLimit must be positive");
    if (!(options.policyPropagationDelayMs >= 0))
      throw new TypeError("policyPropagationDelayMs must not be negative");
    this.accountId = options.accountId;
    this.region = options.region;
    this.now = options.now;
    this.packedPolicyLimit = options.packedPolicyLimit;
    this.policyPropagationDelayMs = options.policyPropagationDelayMs;
    this.broker = {
      accessKeyId: newKeyId("AKIA", this.accountId),
      secretAccessKey: newSecretAccessKey(),
      arn: `arn:aws:iam::${this.accountId}:user/${BROKER_USER_NAME}`,
      userId: newUniqueId("AIDA", this.accountId),
      userName: BROKER_USER_NAME,
    };
  }

  addRole(spec: AwsRoleSpec): Role {
    if (!ROLE_NAME.test(spec.name)) throw new TypeError(`invalid role name ${JSON.stringify(spec.name)}`);
    if (this.#roles.has(spec.name.toLowerCase())) throw new TypeError(`role ${spec.name} already exists`);
    const max = spec.maxSessionDurationSeconds ?? 3600;
    if (!Number.isInteger(max) || max < 3600 || max > 43200) {
      throw new TypeError("maxSessionDurationSeconds must be an integer from 3600 to 43200");
    }
    const role: Role = {
      name: spec.name,
      arn: `arn:aws:iam::${this.accountId}:role/${spec.name}`,
      roleId: newUniqueId("AROA", this.accountId),
      createdAt: this.now(),
      maxSessionDurationSeconds: max,
      trust: compileTrust(spec.trust, { accountId: this.accountId, brokerArn: this.broker.arn }),
      inlinePolicies: new Map(),
      enforced: [{ from: 0, policies: [] }],
    };
    this.#roles.set(spec.name.toLowerCase(), role);
    return role;
  }

  /** Stores (or, with undefined, deletes) an inline policy; requests see it after the propagation delay. */
  setInlinePolicy(role: Role, name: string, policy: InlinePolicy | undefined): void {
    if (policy === undefined) role.inlinePolicies.delete(name);
    else role.inlinePolicies.set(name, policy);
    const policies = [...role.inlinePolicies.values()].map((p) => p.compiled);
    // Without a delay the change is in force at once, whatever a test does with the clock later.
    if (this.policyPropagationDelayMs === 0)
      role.enforced.splice(0, role.enforced.length, { from: 0, policies });
    else role.enforced.push({ from: this.now() + this.policyPropagationDelayMs, policies });
  }

  /** The inline policies requests are evaluated against now. */
  enforcedPolicies(role: Role): readonly CompiledPolicy[] {
    const now = this.now();
    while (role.enforced.length > 1 && (role.enforced[1]?.from ?? Number.POSITIVE_INFINITY) <= now) {
      role.enforced.shift();
    }
    return role.enforced[0]?.policies ?? [];
  }

  /** IAM role names are unique regardless of case, and found regardless of case. */
  role(name: string): Role | undefined {
    return this.#roles.get(name.toLowerCase());
  }

  addOidcProvider(provider: { url: string; audiences: string[] }): OidcProvider {
    let parsed: URL;
    try {
      parsed = new URL(provider.url);
    } catch {
      throw new TypeError(`invalid OIDC provider URL ${JSON.stringify(provider.url)}`);
    }
    if (
      (parsed.protocol !== "https:" && parsed.protocol !== "http:") ||
      parsed.search !== "" ||
      parsed.hash !== ""
    ) {
      throw new TypeError(`OIDC provider URL must be http(s) without query or fragment: ${provider.url}`);
    }
    if (provider.audiences.length < 1 || provider.audiences.length > 100) {
      throw new TypeError("an OIDC provider needs 1 to 100 audiences");
    }
    const url = provider.url.replace(/\/+$/, "");
    if (this.#providers.has(url)) throw new TypeError(`OIDC provider ${url} already exists`);
    const entry: OidcProvider = {
      url,
      arn: providerArn(this.accountId, url),
      audiences: [...provider.audiences],
    };
    this.#providers.set(url, entry);
    return entry;
  }

  /** Provider URLs are case-sensitive, as in IAM. */
  provider(issuer: string): OidcProvider | undefined {
    return this.#providers.get(issuer.replace(/\/+$/, ""));
  }

  issueSession(
    fields: Omit<Session, "accessKeyId" | "secretAccessKey" | "sessionToken" | "arn" | "userId">,
    token: { readonly packedBytes: number; readonly minimumSize: number },
  ): Session {
    const session: Session = {
      ...fields,
      accessKeyId: newKeyId("ASIA", this.accountId),
      secretAccessKey: newSecretAccessKey(),
      sessionToken: newSessionToken(token.packedBytes, token.minimumSize),
      arn: `arn:aws:sts::${this.accountId}:assumed-role/${fields.role.name}/${fields.sessionName}`,
      userId: `${fields.role.roleId}:${fields.sessionName}`,
    };
    this.#sessions.set(session.accessKeyId, session);
    return session;
  }

  session(accessKeyId: string): Session | undefined {
    return this.#sessions.get(accessKeyId);
  }

  failNext(action: string, code: string, times: number): void {
    if (
      !(STS_ACTIONS as readonly string[]).includes(action) &&
      !(IAM_ACTIONS as readonly string[]).includes(action)
    ) {
      throw new TypeError(`unknown action ${JSON.stringify(action)}`);
    }
    if (!isAwsErrorCode(code)) throw new TypeError(`unknown AWS error code ${JSON.stringify(code)}`);
    if (!Number.isInteger(times) || times < 1) throw new TypeError("times must be a positive integer");
    const queue = this.#failures.get(action) ?? [];
    queue.push({ code, remaining: times });
    this.#failures.set(action, queue);
  }

  /** The injected failure due for this call of `action`, if any (consumed). */
  takeInjectedFailure(action: string): AwsError | undefined {
    const queue = this.#failures.get(action);
    const next = queue?.[0];
    if (queue === undefined || next === undefined) return undefined;
    next.remaining--;
    if (next.remaining === 0) queue.shift();
    return new AwsError(next.code);
  }
}
