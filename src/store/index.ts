import type { Clock } from "../clock.js";
import { createMemoryStore } from "./memory.js";
import { createRedisStore } from "./redis.js";
import type { Store } from "./types.js";

export type StoreConfig =
  | { kind: "memory" }
  | { kind: "redis"; url: string; keyPrefix?: string | undefined; commandTimeoutMs?: number | undefined };

export async function createStore(config: StoreConfig, clock?: Clock): Promise<Store> {
  switch (config.kind) {
    case "memory":
      return createMemoryStore(clock ? { clock } : {});
    case "redis":
      return createRedisStore({
        url: config.url,
        ...(config.keyPrefix === undefined ? {} : { keyPrefix: config.keyPrefix }),
        ...(config.commandTimeoutMs === undefined ? {} : { commandTimeoutMs: config.commandTimeoutMs }),
      });
  }
}

export type { Store } from "./types.js";
