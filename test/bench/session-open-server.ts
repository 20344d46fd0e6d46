// The two servers the session-open benchmark compares, each run in its own process so the load
// generator does not share their event loop: `floor` (a bare fastify route doing one ES256 sign
// and one Redis MULTI) and `broker` (the real POST /v1/sessions on the Redis store).
import { randomBytes } from "node:crypto";
import Fastify from "fastify";
import { Redis } from "ioredis";
import { SignJWT } from "jose";
import { generateSigningKey } from "../../src/providers/jwt/keys.js";
import { createRedisStore } from "../../src/store/redis.js";
import { createTestBroker } from "../helpers/broker.js";

const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const which = process.argv[2];

async function floor(): Promise<{ url: string; key: string }> {
  const redis = new Redis(redisUrl);
  const key = await generateSigningKey("ES256");
  const app = Fastify();
  app.post("/v1/sessions", async () => {
    const token = await new SignJWT({ sub: "x" })
      .setProtectedHeader({ alg: "ES256", kid: key.kid })
      .setIssuedAt()
      .setExpirationTime("10m")
      .sign(key.privateKey);
    await redis
      .multi()
      .set(`bench:floor:${randomBytes(8).toString("hex")}`, token, "PX", 60_000)
      .exec();
    return { token };
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address();
  return {
    url: `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`,
    key: "none",
  };
}

async function broker(): Promise<{ url: string; key: string }> {
  const store = await createRedisStore({
    url: redisUrl,
    keyPrefix: `bench:${randomBytes(4).toString("hex")}:`,
  });
  const instance = await createTestBroker({ store, config: { logLevel: "warn" } });
  await instance.apps.api.listen({ host: "127.0.0.1", port: 0 });
  const address = instance.apps.api.server.address();
  return {
    url: `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`,
    key: instance.keys.orchA,
  };
}

const server = which === "floor" ? await floor() : await broker();
process.stdout.write(`${JSON.stringify(server)}\n`);
// CPU time is what a shared, noisy machine distorts least: reported when the run ends.
let since = process.cpuUsage();
process.on("SIGUSR2", () => {
  since = process.cpuUsage();
});
process.on("SIGTERM", () => {
  const used = process.cpuUsage(since);
  process.stdout.write(`${JSON.stringify({ cpuMicros: used.user + used.system })}\n`, () => process.exit(0));
});
