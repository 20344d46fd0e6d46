// Scanning many files on several threads: the calling thread and each worker build a scanner
// from the same matchers and rules, then scan whole files as they are handed out, one at a time,
// so a thread that draws a large file does not hold the others up. The calling thread starts at
// once, while the workers load (about a second each: the TypeScript loader, the matchers, a
// scanner of their own); a worker is handed a file only once it says it is ready, so on a small
// scan the calling thread does it all and the workers are stopped unused, instead of the scan
// waiting for a worker to load for the one file it was given ahead. Results come back whole per
// file and are passed on in the order of the files given, so the report does not depend on
// which thread was faster. Standard input and `--redact` stay on one stream in the calling thread.

import { Worker } from "node:worker_threads";
import { createScanner } from "./engine.js";
import { fileInput } from "./files.js";
import type { Finding } from "./finding.js";
import type { IssuedMatcher } from "./matchers.js";

export interface ParallelScanOptions {
  matchers?: readonly IssuedMatcher[];
  awsAccounts?: readonly string[];
  /** Threads to scan on, the calling one included; fewer when there are fewer files. */
  threads: number;
  /** Called as each file is done, on whichever thread, in no particular order (progress). */
  onScanned?: (scan: FileScan) => void;
}

export interface FileScan {
  path: string;
  findings: Finding[];
  bytes: number;
}

export interface WorkerData {
  matchers: readonly IssuedMatcher[];
  awsAccounts: readonly string[];
}

export interface WorkerRequest {
  index: number;
  path: string;
}

export type WorkerReply =
  | { ready: true }
  | { index: number; findings: Finding[]; bytes: number }
  | { index: number; error: { message: string; code?: string; path?: string } };

/**
 * The worker's entry point: it registers the TypeScript loader itself, since a worker thread
 * does not inherit loaders registered in code, and is started without the parent's flags so that
 * none is registered twice.
 */
const ENTRY = new URL("./scan-worker.mjs", import.meta.url);

/**
 * Scans the files on `options.threads` threads. `onFile` sees each file's result in the order of
 * `paths`, as soon as it and every file before it are done. A file that cannot be read fails the
 * whole scan with its error (carrying `code` and `path`, as fs errors do).
 */
export async function scanInParallel(
  paths: readonly string[],
  options: ParallelScanOptions,
  onFile: (scan: FileScan) => void,
): Promise<void> {
  const matchers = options.matchers ?? [];
  const awsAccounts = options.awsAccounts ?? [];
  const workerData: WorkerData = { matchers, awsAccounts };
  const count = Math.max(0, Math.min(options.threads, paths.length) - 1);
  const workers = Array.from({ length: count }, () => new Worker(ENTRY, { workerData, execArgv: [] }));
  const done: (FileScan | undefined)[] = [];
  let next = 0;
  let passed = 0;
  const finish = (index: number, findings: Finding[], bytes: number) => {
    const scanned = { path: paths[index] as string, findings, bytes };
    done[index] = scanned;
    options.onScanned?.(scanned);
    for (let scan = done[passed]; scan !== undefined; scan = done[passed]) {
      done[passed] = undefined;
      passed++;
      onFile(scan);
    }
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const settle = () => {
        if (passed === paths.length) resolve();
      };
      const feed = (worker: Worker) => {
        if (next >= paths.length) return;
        const request: WorkerRequest = { index: next, path: paths[next] as string };
        next++;
        worker.postMessage(request);
      };
      for (const worker of workers) {
        worker.on("message", (reply: WorkerReply) => {
          if ("ready" in reply) {
            feed(worker);
            return;
          }
          if ("error" in reply) {
            reject(Object.assign(new Error(reply.error.message), reply.error));
            return;
          }
          finish(reply.index, reply.findings, reply.bytes);
          feed(worker);
          settle();
        });
        worker.on("error", reject);
        worker.on("exit", (code) => {
          if (passed < paths.length) reject(new Error(`a scan worker stopped (exit code ${code})`));
        });
      }
      const scanner = createScanner({ matchers, awsAccounts });
      const scanHere = async () => {
        while (next < paths.length) {
          const index = next++;
          const path = paths[index] as string;
          const { findings, bytes } = await scanner.scan(fileInput(path).chunks(), { path });
          finish(index, findings, bytes);
        }
        settle();
      };
      scanHere().catch(reject);
    });
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}
