import type { Sealer } from "../crypto/seal.js";
import { type IssuedMatcher, issuedMatcherSchema } from "../scanner/matchers.js";
import type { Store, StoredRecord, Write } from "../store/types.js";
import type { MintedCredential } from "./mint.js";
import {
  type CredentialRecord,
  credentialRecordSchema,
  keys,
  RECENT_LEAK_WINDOW_MS,
  RETENTION_MS,
  type SessionRecord,
  sessionRecordSchema,
} from "./records.js";

export interface Versioned<T> {
  record: T;
  version: number;
}

/** Store access for sessions and credentials: keys, (de)serialisation, sealing and TTLs in one place. */
export interface SessionRepository {
  getSession(id: string): Promise<Versioned<SessionRecord> | null>;
  /** Many sessions in one round trip, in the order asked (null where there is none). */
  getSessions(ids: readonly string[]): Promise<(Versioned<SessionRecord> | null)[]>;
  /** Writes a session guarded by its version (0 = must not exist), with extra writes in the same commit. */
  saveSession(record: SessionRecord, version: number, ttlMs: number, extra?: Write[]): Promise<boolean>;
  getCredential(sessionId: string, id: string): Promise<Versioned<CredentialRecord> | null>;
  getCredentials(sessionId: string, ids: readonly string[]): Promise<Versioned<CredentialRecord>[]>;
  /** Writes for a credential record, kept past its expiry for auditors. */
  credentialWrite(record: CredentialRecord, now: number): Write;
  /** Writes for a sealed secret, gone from the store when the credential expires. */
  secretWrite(record: CredentialRecord, secret: Record<string, string>, now: number): Write;
  readSecret(record: CredentialRecord): Promise<Record<string, string> | undefined>;
  /** Everything a newly minted credential stores: metadata and sealed secret. */
  mintedWrites(minted: MintedCredential, now: number): Write[];
  /** Leak matchers, outliving the secret so that one revoked or expired recently is still recognised. */
  matchersWrite(record: CredentialRecord, matchers: readonly IssuedMatcher[], now: number): Write;
  /** Stored leak matchers of a session's credentials, by credential id (absent: none stored). */
  readMatchers(sessionId: string, credentialIds: readonly string[]): Promise<Map<string, IssuedMatcher[]>>;
  sessionTtlMs(record: SessionRecord, now: number): number;
}

function parseSession(stored: StoredRecord): Versioned<SessionRecord> {
  return { record: sessionRecordSchema.parse(JSON.parse(stored.value)), version: stored.version };
}

export function createSessionRepository(deps: { store: Store; sealer: Sealer }): SessionRepository {
  const { store, sealer } = deps;
  const aad = (record: CredentialRecord) => `${record.sessionId}/${record.id}`;
  return {
    async getSession(id) {
      const stored = await store.get(keys.session(id));
      return stored ? parseSession(stored) : null;
    },
    async getSessions(ids) {
      const stored = await store.getMany(ids.map((id) => keys.session(id)));
      return stored.map((s) => (s ? parseSession(s) : null));
    },
    async saveSession(record, version, ttlMs, extra = []) {
      const guard =
        version === 0
          ? { key: keys.session(record.id), absent: true as const }
          : { key: keys.session(record.id), version };
      const write: Write = {
        op: "set",
        key: keys.session(record.id),
        value: JSON.stringify(record),
        ttlMs,
      };
      return store.commit([guard], [write, ...extra]);
    },
    async getCredential(sessionId, id) {
      const stored = await store.get(keys.credential(sessionId, id));
      return stored
        ? { record: credentialRecordSchema.parse(JSON.parse(stored.value)), version: stored.version }
        : null;
    },
    async getCredentials(sessionId, ids) {
      const stored = await store.getMany(ids.map((id) => keys.credential(sessionId, id)));
      return stored.flatMap((s) =>
        s ? [{ record: credentialRecordSchema.parse(JSON.parse(s.value)), version: s.version }] : [],
      );
    },
    credentialWrite(record, now) {
      return {
        op: "set",
        key: keys.credential(record.sessionId, record.id),
        value: JSON.stringify(record),
        ttlMs: Math.max(1, record.expiresAt - now + RETENTION_MS),
      };
    },
    secretWrite(record, secret, now) {
      return {
        op: "set",
        key: keys.secret(record.sessionId, record.id),
        value: sealer.seal(JSON.stringify(secret), aad(record)),
        ttlMs: Math.max(1, record.expiresAt - now),
      };
    },
    async readSecret(record) {
      const stored = await store.get(keys.secret(record.sessionId, record.id));
      return stored
        ? (JSON.parse(sealer.open(stored.value, aad(record))) as Record<string, string>)
        : undefined;
    },
    mintedWrites(minted, now) {
      return [this.credentialWrite(minted.record, now), this.secretWrite(minted.record, minted.secret, now)];
    },
    matchersWrite(record, matchers, now) {
      return {
        op: "set",
        key: keys.matchers(record.sessionId, record.id),
        value: JSON.stringify(matchers),
        ttlMs: Math.max(1, record.expiresAt - now + RECENT_LEAK_WINDOW_MS),
      };
    },
    async readMatchers(sessionId, credentialIds) {
      const stored = await store.getMany(credentialIds.map((id) => keys.matchers(sessionId, id)));
      const found = new Map<string, IssuedMatcher[]>();
      stored.forEach((s, i) => {
        if (s) found.set(credentialIds[i] as string, issuedMatcherSchema.array().parse(JSON.parse(s.value)));
      });
      return found;
    },
    sessionTtlMs(record, now) {
      return Math.max(1, record.expiresAt - now + RETENTION_MS);
    },
  };
}
