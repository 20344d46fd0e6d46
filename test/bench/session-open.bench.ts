// Session open with one JWT grant on Redis, beside the floor measured in the same run: a bare
// fastify route that does one ES256 sign and one Redis MULTI. Each server runs in its own
// process; rounds alternate so that noise from a shared machine hits both alike, and the
// median round is reported. Target: at least 50% of the floor.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { formatLoad, type LoadResult, runLoad } from "./load.js";

const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 32);
const durationMs = Number(process.env.BENCH_DURATION_MS ?? 3000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const out = (line: string) => process.stdout.write(`${line}\n`);
const serverScript = fileURLToPath(new URL("./session-open-server.ts", import.meta.url));

interface Measured extends LoadResult {
  /** Server CPU time per request, in microseconds. */
  cpuPerRequest: number;
}

async function startServer(which: "floor" | "broker") {
  const child = spawn(process.execPath, ["--import", "tsx", serverScript, which], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]();
  const first = await lines.next();
  return { child, lines, ...(JSON.parse(String(first.value)) as { url: string; key: string }) };
}

async function measure(which: "floor" | "broker"): Promise<Measured> {
  const server = await startServer(which);
  const run = randomBytes(4).toString("hex");
  const headers = { authorization: `Bearer ${server.key}`, "content-type": "application/json" };
  let result: LoadResult;
  try {
    result = await runLoad(
      async (i) => {
        const response = await fetch(`${server.url}/v1/sessions`, {
          method: "POST",
          headers,
          body: JSON.stringify({ sessionId: `bench-${run}-${i}`, scopes: ["build"] }),
        });
        await response.arrayBuffer();
        return response.status === 201 || (which === "floor" && response.ok);
      },
      { concurrency, durationMs, warmupMs: 1000, onMeasureStart: () => server.child.kill("SIGUSR2") },
    );
  } finally {
    server.child.kill("SIGTERM");
  }
  const report = await server.lines.next();
  await once(server.child, "exit");
  const { cpuMicros } = JSON.parse(String(report.value)) as { cpuMicros: number };
  return { ...result, cpuPerRequest: cpuMicros / result.requests };
}

const median = (results: Measured[]) =>
  [...results].sort((a, b) => a.perSecond - b.perSecond)[Math.floor(results.length / 2)] as Measured;

out(
  `session open, one JWT grant, Redis, ${concurrency} concurrent clients, ${rounds} alternating rounds of ${durationMs} ms`,
);
const floors: Measured[] = [];
const brokers: Measured[] = [];
for (let round = 0; round < rounds; round++) {
  floors.push(await measure("floor"));
  brokers.push(await measure("broker"));
  const [f, b] = [floors[round] as Measured, brokers[round] as Measured];
  out(
    `round ${round + 1}: floor ${f.perSecond.toFixed(0)} req/s (${f.cpuPerRequest.toFixed(0)} µs CPU/req), broker ${b.perSecond.toFixed(0)} req/s (${b.cpuPerRequest.toFixed(0)} µs CPU/req)`,
  );
}
const floor = median(floors);
const broker = median(brokers);
out(formatLoad("floor (ES256 sign + Redis MULTI)", floor));
out(formatLoad("POST /v1/sessions (median round)", broker));
out(
  `ratio: ${((broker.perSecond / floor.perSecond) * 100).toFixed(1)}% of the floor's throughput (target ≥ 50%)`,
);
out(
  `server CPU per request: floor ${floor.cpuPerRequest.toFixed(0)} µs, broker ${broker.cpuPerRequest.toFixed(0)} µs (floor/broker ${((floor.cpuPerRequest / broker.cpuPerRequest) * 100).toFixed(1)}%)`,
);
