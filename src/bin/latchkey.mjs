#!/usr/bin/env node
// Entry point of the `latchkey` command. The sources are TypeScript, run through tsx.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../cli/main.ts");
const { processIo } = await import("../cli/io.ts");
process.exitCode = await main(process.argv.slice(2), processIo());
