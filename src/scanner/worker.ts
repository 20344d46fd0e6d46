// The body of a scan worker thread (see parallel.ts): one scanner, built once, then one file at a
// time as the parent asks.

import { parentPort, workerData } from "node:worker_threads";
import { createScanner } from "./engine.js";
import { fileInput } from "./files.js";
import type { WorkerData, WorkerReply, WorkerRequest } from "./parallel.js";

const port = parentPort;
if (port === null) throw new Error("worker.ts runs in a worker thread");
const { matchers, awsAccounts } = workerData as WorkerData;
const scanner = createScanner({ matchers, awsAccounts });
port.postMessage({ ready: true } satisfies WorkerReply);

port.on("message", ({ index, path }: WorkerRequest) => {
  scanner.scan(fileInput(path).chunks(), { path }).then(
    ({ findings, bytes }) => port.postMessage({ index, findings, bytes } satisfies WorkerReply),
    (error: unknown) => {
      const { code, path: where } = error as { code?: unknown; path?: unknown };
      port.postMessage({
        index,
        error: {
          message: error instanceof Error ? error.message : String(error),
          ...(typeof code === "string" ? { code } : {}),
          ...(typeof where === "string" ? { path: where } : {}),
        },
      } satisfies WorkerReply);
    },
  );
});
