import type { z } from "zod";

export const providerKinds = ["aws", "github", "jwt"] as const;
export type ProviderKind = (typeof providerKinds)[number];

/** What every grant has; each provider's schema adds its own bounds. */
export interface BaseGrant {
  name: string;
  provider: ProviderKind;
}

/** The session facts a provider binds a credential to. */
export interface MintContext {
  sessionId: string;
  scope: string;
  clientId: string;
  credentialId: string;
  /** The credential must not outlive this instant (ms since epoch): the session's own expiry. */
  notAfter: number;
  now: number;
}

export interface Minted {
  /** The secret as served to the agent; `secretFields` name the members that are secret. */
  secret: Record<string, string>;
  expiresAt: number;
  /** Non-secret provider reference: STS AssumedRoleId, GitHub installation id, JWT jti. */
  reference: Record<string, string | number>;
}

export type RevokeOutcome =
  | { state: "revoked"; detail?: string }
  | { state: "revocation_pending"; error: string; retryable: boolean };

export interface RevokeContext {
  sessionId: string;
  credentialId: string;
  reference: Record<string, string | number>;
  issuedAt: number;
  expiresAt: number;
  /** The live secret, when still held (GitHub revokes with the token itself). */
  secret: Record<string, string> | undefined;
  now: number;
}

/** A provider: one kind of credential, minted for a session and revoked with its issuer. */
export interface Provider<G extends BaseGrant = BaseGrant, N = unknown> {
  readonly kind: ProviderKind;
  /** Fields of `Minted.secret` that are secret (fingerprinted, sealed, scanned, redacted). */
  readonly secretFields: readonly string[];
  /**
   * True when revoking one credential denies every credential of its session (AWS denies by
   * SourceIdentity). Such a session id must be reserved before minting: a duplicate open that
   * minted and then revoked would revoke the winner's credentials too.
   */
  readonly revocationCoversSession: boolean;
  /** Validates a request's `narrow` member for this provider. */
  readonly narrowSchema: z.ZodType<N>;
  /** Returns the grant narrowed by the request, or throws GRANT_WIDENING naming the field. */
  narrow(grant: G, request: N): G;
  mint(grant: G, context: MintContext): Promise<Minted>;
  revoke(context: RevokeContext): Promise<RevokeOutcome>;
}
