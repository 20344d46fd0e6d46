import type { Store } from "./types.js";

/**
 * Claims a named lease for `owner` (or renews it when `owner` already holds it), so background
 * work shared by several replicas runs in one at a time; a holder that dies loses it after `ttlMs`.
 */
export async function claimLease(store: Store, name: string, owner: string, ttlMs: number): Promise<boolean> {
  const key = `lease:${name}`;
  const current = await store.get(key);
  if (current && current.value !== owner) return false;
  const guard = current ? { key, version: current.version } : { key, absent: true as const };
  return store.commit([guard], [{ op: "set", key, value: owner, ttlMs }]);
}
