// The scan endpoint with many live sessions, beside the same endpoint with one, in one run.
// Every scan looks for the credentials of every live session (output can carry another
// sandbox's secret), so what grows with their number is the reading of those sessions and the
// scanner built for their credentials. Each broker runs on Redis under its own key prefix;
// requests go over real HTTP, one at a time, alternating between the brokers, and each figure
// is the median of its requests.
//
//   node --import tsx test/bench/scan-endpoint.bench.ts [--sessions 1000,10000] [--requests 30]

import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import { createRedisStore } from "../../src/store/redis.js";
import { bearer, createTestBroker, type TestBroker } from "../helpers/broker.js";
import { fillerLine } from "../scanner/corpus.js";
import { Rng } from "../scanner/tokens.js";

const { values } = parseArgs({
  options: {
    sessions: { type: "string", default: "1000,10000" },
    requests: { type: "string", default: "30" },
  },
});
const crowds = values.sessions.split(",").map(Number);
const requests = Number(values.requests);
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const BODY_BYTES = 256 * 1024;
const OPEN_CONCURRENCY = 64;
const out = (line = "") => process.stdout.write(`${line}\n`);

const rng = new Rng(7);
const lines: string[] = [];
for (let size = 0; size < BODY_BYTES; ) {
  const line = `${fillerLine(rng)}\n`;
  lines.push(line);
  size += line.length;
}
const body = lines.join("");

interface Target {
  name: string;
  broker: TestBroker;
  url: string;
  prefix: string;
  latencies: number[];
}

async function startBroker(name: string, sessions: number): Promise<Target> {
  const prefix = `bench:scan:${randomBytes(4).toString("hex")}:`;
  const store = await createRedisStore({ url: redisUrl, keyPrefix: prefix });
  const broker = await createTestBroker({ store, config: { logLevel: "warn" } });
  await broker.apps.api.listen({ host: "127.0.0.1", port: 0 });
  const address = broker.apps.api.server.address();
  const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  const started = performance.now();
  for (let next = 0; next < sessions; next += OPEN_CONCURRENCY) {
    await Promise.all(
      Array.from({ length: Math.min(OPEN_CONCURRENCY, sessions - next) }, async (_, k) => {
        const opened = await broker.apps.api.inject({
          method: "POST",
          url: "/v1/sessions",
          headers: bearer(broker.keys.orchA),
          payload: { sessionId: `s-${next + k}`, scopes: ["build"] },
        });
        if (opened.statusCode !== 201) throw new Error(`session open: ${opened.statusCode} ${opened.body}`);
      }),
    );
  }
  out(`${name}: ${sessions} sessions opened in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return { name, broker, url, prefix, latencies: [] };
}

async function scanOnce(target: Target): Promise<void> {
  const started = performance.now();
  const response = await fetch(`${target.url}/v1/sessions/s-0/scan`, {
    method: "POST",
    headers: { ...bearer(target.broker.keys.orchA), "content-type": "text/plain" },
    body,
  });
  const answer = (await response.json()) as { findings?: unknown[] };
  if (response.status !== 200 || answer.findings?.length !== 0)
    throw new Error(`scan: ${response.status} ${JSON.stringify(answer).slice(0, 200)}`);
  target.latencies.push(performance.now() - started);
}

async function removeKeys(prefix: string): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    let cursor = "0";
    do {
      const [next, found] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      cursor = next;
      if (found.length > 0) await redis.unlink(...found);
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}

const median = (values: readonly number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

out(
  `POST /v1/sessions/{id}/scan, ${(BODY_BYTES / 1024).toFixed(0)} KB of log text (no secret), Redis, ` +
    `${requests} requests per broker, one at a time`,
);
const targets = [
  await startBroker("1 live session", 1),
  ...(await Promise.all(crowds.map((n) => startBroker(`${n} live sessions`, n)))),
];
try {
  // The first scan of each broker reads every session's matchers and builds its scanner; the
  // figures are for the scans after it, while the set of live credentials stays the same.
  for (const target of targets) await scanOnce(target);
  for (const target of targets) target.latencies.length = 0;
  for (let i = 0; i < requests; i++) for (const target of targets) await scanOnce(target);
  const floor = median((targets[0] as Target).latencies);
  for (const target of targets) {
    const ms = median(target.latencies);
    out(
      `${target.name.padEnd(22)} ${ms.toFixed(1).padStart(7)} ms per scan (median)  ${(ms / floor).toFixed(2)}x the 1-session figure`,
    );
  }
} finally {
  for (const target of targets) {
    await target.broker.close();
    await target.broker.store.close();
    await removeKeys(target.prefix);
  }
}
