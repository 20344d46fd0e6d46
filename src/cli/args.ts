import { parseArgs } from "node:util";

/** A usage mistake: printed with a hint, exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

export interface FlagSpec {
  type: "string" | "boolean";
  multiple?: boolean;
  short?: string;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j] as number;
      row[j] = Math.min(
        (row[j] as number) + 1,
        (row[j - 1] as number) + 1,
        previous + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      previous = current;
    }
  }
  return row[b.length] as number;
}

/** The closest known word, when close enough to be a likely typo. */
export function suggest(word: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const d = distance(word, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

export interface Parsed {
  flags: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/** Strict parsing: an unknown flag is a UsageError that names the closest known flag. */
export function parseFlags(argv: readonly string[], spec: Record<string, FlagSpec>, verb: string): Parsed {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: { ...spec, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
    return { flags: values as Parsed["flags"], positionals };
  } catch (error) {
    const message = (error as Error).message;
    const unknown = /Unknown option '(-{1,2}[^']+)'/.exec(message)?.[1];
    if (unknown) {
      const hint = suggest(unknown.replace(/^-+/, ""), Object.keys(spec));
      throw new UsageError(
        `${verb}: unknown flag ${unknown}${hint ? `; did you mean --${hint}?` : ""} (see \`latchkey ${verb} --help\`)`,
      );
    }
    throw new UsageError(`${verb}: ${message.split("\n")[0]}`);
  }
}
