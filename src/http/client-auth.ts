import { timingSafeEqual } from "node:crypto";
import type { ClientConfig } from "../config/schema.js";
import { sha256Hex } from "../crypto/hash.js";
import type { Client } from "../sessions/client.js";

export interface ClientAuthenticator {
  /** The client a bearer API key belongs to, or null. */
  authenticate(apiKey: string): Client | null;
}

/**
 * Keys are configured as SHA-256 digests. The presented key's digest is compared with every
 * configured digest in constant time, without stopping at a match, so timing tells nothing
 * about which (or whether any) client matched.
 */
export function createClientAuthenticator(clients: readonly ClientConfig[]): ClientAuthenticator {
  const entries = clients.map((c) => ({
    digest: Buffer.from(c.keySha256, "hex"),
    client: { id: c.id, role: c.role, scopes: new Set(c.scopes) } satisfies Client,
  }));
  return {
    authenticate(apiKey) {
      const presented = Buffer.from(sha256Hex(apiKey), "hex");
      let found: Client | null = null;
      for (const entry of entries) {
        if (timingSafeEqual(entry.digest, presented)) found = entry.client;
      }
      return found;
    },
  };
}

/** The credential in an Authorization header: `Bearer <value>`, or the raw value when `allowRaw`. */
export function credentialFromHeader(header: string | undefined, allowRaw: boolean): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer[ ]+(\S+)$/i.exec(header);
  if (match) return match[1];
  return allowRaw && /^\S+$/.test(header) ? header : undefined;
}
