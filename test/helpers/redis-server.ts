import { type ChildProcess, spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";

/** A private redis-server on its own port, so a test can stop and restart it. */
export interface RedisProcess {
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startRedisProcess(port: number): Promise<RedisProcess> {
  let child: ChildProcess | undefined;
  const url = `redis://127.0.0.1:${port}`;
  const start = async () => {
    child = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      {
        stdio: "ignore",
      },
    );
    child.on("error", (error) => {
      throw new Error(
        `redis-server could not start (install it: apt-get install redis-server): ${error.message}`,
      );
    });
    for (let i = 0; i < 100; i++) {
      const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
      probe.on("error", () => {});
      try {
        await probe.connect();
        await probe.ping();
        probe.disconnect();
        return;
      } catch {
        probe.disconnect();
        await sleep(50);
      }
    }
    throw new Error(`redis-server did not answer on port ${port}`);
  };
  await start();
  return {
    url,
    start,
    async stop() {
      const exiting = new Promise((resolve) => child?.once("exit", resolve));
      child?.kill("SIGKILL");
      await exiting;
    },
  };
}
