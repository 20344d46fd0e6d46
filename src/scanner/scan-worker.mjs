// A thread of a parallel scan (see parallel.ts). The sources are TypeScript, run through tsx.
import { register } from "tsx/esm/api";

register();
await import("./worker.ts");
