// Runs every benchmark (or those named on the command line) one after another, each in its own
// process so that one benchmark's heap and JIT state do not colour the next one's figures.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const dir = fileURLToPath(new URL(".", import.meta.url));
const wanted = process.argv.slice(2);
const all = readdirSync(dir)
  .filter((name) => name.endsWith(".bench.ts"))
  .sort();
const selected = wanted.length === 0 ? all : all.filter((name) => wanted.some((w) => name.startsWith(w)));
if (selected.length === 0) {
  process.stderr.write(`no benchmark matches ${wanted.join(", ")}; have: ${all.join(", ")}\n`);
  process.exit(2);
}
let failed = false;
for (const name of selected) {
  process.stdout.write(`\n== ${name}\n`);
  const result = spawnSync(process.execPath, ["--import", "tsx", `${dir}${name}`], { stdio: "inherit" });
  if (result.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
