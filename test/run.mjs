#!/usr/bin/env node
// Runs the whole suite (or the files given) with Node's test runner through tsx.
// Node 20 neither expands globs nor finds .ts files on its own, so the file list is built here,
// and a run that finds no test files is a failure, not a pass.
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

function findTests(dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== "node_modules" && entry.name !== "bench") found.push(...findTests(path));
    } else if (entry.name.endsWith(".test.ts")) {
      found.push(relative(root, path));
    }
  }
  return found.sort();
}

const given = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const flags = process.argv.slice(2).filter((a) => a.startsWith("--"));
const files = given.length > 0 ? given : findTests(join(root, "test"));
if (files.length === 0) {
  process.stderr.write("test/run.mjs: no *.test.ts files found under test/\n");
  process.exit(1);
}

const child = spawn(
  process.execPath,
  ["--import", "tsx", "--test", "--test-concurrency=4", "--test-timeout=120000", ...flags, ...files],
  { cwd: root, stdio: "inherit" },
);
child.on("exit", (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
