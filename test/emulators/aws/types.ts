// The emulator's public shapes, re-exported by index.ts.

export interface AwsEmulatorOptions {
  /** Default "123456789012". */
  accountId?: string;
  /** Default "us-east-1". */
  region?: string;
  /** Milliseconds since the epoch; drives expiry, clock skew and issue times. Default `Date.now`. */
  now?: () => number;
  roles?: AwsRoleSpec[];
  oidcProviders?: { url: string; audiences: string[] }[];
  /** Bytes of packed (DEFLATE) session policy or tags that make 100%; see packing.ts. Default 320. */
  packedPolicyLimit?: number;
  /**
   * How long an inline-policy write takes to affect request evaluation (IAM's API shows it at once).
   * Real IAM takes seconds to minutes; default 0, i.e. immediate.
   */
  policyPropagationDelayMs?: number;
}

export interface AwsRoleSpec {
  name: string;
  /** 3600..43200, default 3600. */
  maxSessionDurationSeconds?: number;
  /** Default: the broker principal may AssumeRole, TagSession and SetSourceIdentity. */
  trust?: {
    /**
     * Principals allowed to assume: user, role or assumed-role session ARNs, `arn:aws:iam::<acct>:root`
     * or a 12-digit account id ("*" is refused). Default: the broker's user ARN.
     */
    principals?: string[];
    /** Default true. */
    tagSession?: boolean;
    /** Default true. */
    setSourceIdentity?: boolean;
    /**
     * Trust an OIDC provider (its issuer URL or its `oidc-provider` ARN), optionally requiring
     * `<host/path>:aud` StringEquals `audience` and `<host/path>:sub` StringLike `subjectLike`.
     */
    webIdentity?: { provider: string; audience?: string; subjectLike?: string };
  };
}

export interface AwsEmulator {
  /** "http://127.0.0.1:<port>" */
  endpoint: string;
  region: string;
  accountId: string;
  brokerCredentials: { accessKeyId: string; secretAccessKey: string };
  /** arn:aws:iam::<acct>:user/latchkey-broker */
  brokerArn: string;
  addRole(spec: AwsRoleSpec): { arn: string; roleId: string };
  addOidcProvider(p: { url: string; audiences: string[] }): { arn: string };
  /** The stored inline policy document, decoded; for test assertions. */
  getRolePolicy(roleName: string, policyName: string): string | undefined;
  /** Makes the next `times` (default 1) calls of `action` fail with `code` (a known AWS error code). */
  failNext(action: string, code: string, times?: number): void;
  readonly requests: ReadonlyArray<{
    service: "sts" | "iam";
    action: string;
    status: number;
    accessKeyId?: string;
  }>;
  close(): Promise<void>;
}
