// Session open with one JWT grant on Redis, against a floor measured in the same run: a bare
// fastify route that does one ES256 sign and one Redis MULTI. Target: at least 50% of the floor.
import { randomBytes } from "node:crypto";
import Fastify from "fastify";
import { Redis } from "ioredis";
import { SignJWT } from "jose";
import { generateSigningKey } from "../../src/providers/jwt/keys.js";
import { createRedisStore } from "../../src/store/redis.js";
import { bearer, createTestBroker } from "../helpers/broker.js";
import { formatLoad, runLoad } from "./load.js";

const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 32);
const durationMs = Number(process.env.BENCH_DURATION_MS ?? 5000);
const out = (line: string) => process.stdout.write(`${line}\n`);

async function floor() {
  const redis = new Redis(redisUrl);
  const key = await generateSigningKey("ES256");
  const app = Fastify();
  app.post("/floor", async () => {
    const token = await new SignJWT({ sub: "x" })
      .setProtectedHeader({ alg: "ES256", kid: key.kid })
      .setIssuedAt()
      .setExpirationTime("10m")
      .sign(key.privateKey);
    const id = randomBytes(8).toString("hex");
    await redis.multi().set(`bench:floor:${id}`, token, "PX", 60_000).exec();
    return { token };
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address();
  const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/floor`;
  const result = await runLoad(async () => (await fetch(url, { method: "POST" })).ok, {
    concurrency,
    durationMs,
    warmupMs: 1000,
  });
  await app.close();
  redis.disconnect();
  return result;
}

async function broker() {
  const store = await createRedisStore({
    url: redisUrl,
    keyPrefix: `bench:${randomBytes(4).toString("hex")}:`,
  });
  const instance = await createTestBroker({ store, config: { logLevel: "warn" } });
  await instance.apps.api.listen({ host: "127.0.0.1", port: 0 });
  const address = instance.apps.api.server.address();
  const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/v1/sessions`;
  const run = randomBytes(4).toString("hex");
  const headers = { ...bearer(instance.keys.orchA), "content-type": "application/json" };
  const result = await runLoad(
    async (i) =>
      (
        await fetch(url, {
          method: "POST",
          headers,
          body: JSON.stringify({ sessionId: `bench-${run}-${i}`, scopes: ["build"] }),
        })
      ).status === 201,
    { concurrency, durationMs, warmupMs: 1000 },
  );
  await instance.close();
  await store.close();
  return result;
}

out(
  `session open, one JWT grant, Redis ${redisUrl}, ${concurrency} concurrent clients, ${durationMs} ms per run`,
);
const floorResult = await floor();
out(formatLoad("floor (ES256 sign + Redis MULTI)", floorResult));
const brokerResult = await broker();
out(formatLoad("POST /v1/sessions", brokerResult));
const ratio = brokerResult.perSecond / floorResult.perSecond;
out(`ratio: ${(ratio * 100).toFixed(1)}% of the floor (target ≥ 50%)`);
