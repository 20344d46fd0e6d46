import { randomBytes } from "node:crypto";
import { createMemoryStore } from "../../src/store/memory.js";
import { createRedisStore } from "../../src/store/redis.js";
import type { Store } from "../../src/store/types.js";

export interface StoreFactory {
  name: string;
  create(): Promise<Store>;
}

/**
 * The stores every contract-style suite runs against: always the memory store, and Redis when
 * REDIS_URL is set. With REDIS_URL set, an unreachable Redis fails the suite (it is never skipped).
 */
export function storeFactories(): StoreFactory[] {
  const factories: StoreFactory[] = [{ name: "memory", create: async () => createMemoryStore() }];
  const url = process.env.REDIS_URL;
  if (url) {
    factories.push({
      name: "redis",
      // A fresh prefix per store keeps parallel test files from seeing each other's keys.
      // A generous command timeout: a loaded CI machine must not turn slowness into outages.
      create: () =>
        createRedisStore({
          url,
          keyPrefix: `lktest:${randomBytes(6).toString("hex")}:`,
          commandTimeoutMs: 10_000,
        }),
    });
  }
  return factories;
}
