import { createCipheriv, createDecipheriv } from "node:crypto";
import { randomBuffer } from "./hash.js";

// Secrets kept in the store are sealed with AES-256-GCM so the store never holds a plaintext
// secret. The key id travels with the ciphertext so keys can rotate: new seals use the primary
// key, older ciphertexts stay readable while their key is still configured.

export interface SealKey {
  id: string;
  /** 32 raw bytes. */
  key: Uint8Array;
}

export interface Sealer {
  seal(plaintext: string, associatedData: string): string;
  open(sealed: string, associatedData: string): string;
}

const VERSION = "v1";

export function createSealer(keys: readonly SealKey[]): Sealer {
  const primary = keys[0];
  if (!primary) throw new TypeError("createSealer needs at least one key");
  const byId = new Map<string, Uint8Array>();
  for (const { id, key } of keys) {
    if (key.length !== 32) throw new TypeError(`seal key ${id} must be 32 bytes, got ${key.length}`);
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(id))
      throw new TypeError(`seal key id ${JSON.stringify(id)} is not valid`);
    byId.set(id, key);
  }
  return {
    // Associated data binds a ciphertext to its record (e.g. the credential id), so a sealed
    // value copied onto another record does not open.
    seal(plaintext, associatedData) {
      const iv = randomBuffer(12);
      const cipher = createCipheriv("aes-256-gcm", primary.key, iv);
      cipher.setAAD(Buffer.from(associatedData));
      const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      const tag = cipher.getAuthTag();
      return [
        VERSION,
        primary.id,
        iv.toString("base64url"),
        body.toString("base64url"),
        tag.toString("base64url"),
      ].join(".");
    },
    open(sealed, associatedData) {
      const [version, keyId, iv, body, tag] = sealed.split(".");
      if (version !== VERSION || !keyId || iv === undefined || body === undefined || tag === undefined) {
        throw new Error("sealed value is malformed");
      }
      const key = byId.get(keyId);
      if (!key) throw new Error(`sealed value uses unknown key id ${keyId}`);
      const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
      decipher.setAAD(Buffer.from(associatedData));
      decipher.setAuthTag(Buffer.from(tag, "base64url"));
      return Buffer.concat([decipher.update(Buffer.from(body, "base64url")), decipher.final()]).toString(
        "utf8",
      );
    },
  };
}
