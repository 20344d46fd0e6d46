import { isMap, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import type { z } from "zod";

/** One precise problem in a configuration or scope file: where it is, what is wrong, how to fix it. */
export interface FileProblem {
  file: string;
  line?: number;
  field: string;
  message: string;
  fix?: string;
}

export class FileProblemsError extends Error {
  override readonly name = "FileProblemsError";
  constructor(readonly problems: FileProblem[]) {
    super(problems.map(formatProblem).join("\n"));
  }
}

export function formatProblem(problem: FileProblem): string {
  const where = problem.line === undefined ? problem.file : `${problem.file}:${problem.line}`;
  const field = problem.field ? ` ${problem.field}:` : "";
  const fix = problem.fix ? ` (fix: ${problem.fix})` : "";
  return `${where}:${field} ${problem.message}${fix}`;
}

export interface ParsedYaml {
  value: unknown;
  /** The 1-based line of the node at `path`, or of its nearest existing parent. */
  lineOf(path: readonly PropertyKey[]): number | undefined;
  problems: FileProblem[];
}

/** Parses YAML (JSON is YAML too) keeping positions, so later schema errors can name lines. */
export function parseYamlWithLines(file: string, source: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const problems: FileProblem[] = doc.errors.map((error) => ({
    file,
    line: lineCounter.linePos(error.pos[0]).line,
    field: "",
    message: error.message.split("\n")[0] ?? "invalid YAML",
  }));
  const lineOf = (path: readonly PropertyKey[]): number | undefined => {
    let node: unknown = doc.contents;
    let line: number | undefined = offsetLine(node);
    for (const key of path) {
      if (isMap(node)) node = node.get(key as string, true);
      else if (isSeq(node) && typeof key === "number") node = node.get(key, true);
      else break;
      if (node === undefined) break;
      line = offsetLine(node) ?? line;
    }
    return line;
  };
  const offsetLine = (node: unknown): number | undefined => {
    const range = (node as Node | undefined)?.range;
    return range ? lineCounter.linePos(range[0]).line : undefined;
  };
  return { value: problems.length > 0 ? undefined : doc.toJS(), lineOf, problems };
}

export function fieldPath(path: readonly PropertyKey[]): string {
  return path
    .map((key, i) => (typeof key === "number" ? `[${key}]` : i === 0 ? String(key) : `.${String(key)}`))
    .join("");
}

/** Turns zod issues into file problems, each with its line and, where known, a fix. */
export function zodProblems(
  file: string,
  parsed: Pick<ParsedYaml, "lineOf">,
  issues: readonly z.core.$ZodIssue[],
  fixes: (field: string, issue: z.core.$ZodIssue) => string | undefined = () => undefined,
  basePath: readonly PropertyKey[] = [],
): FileProblem[] {
  return issues.map((issue) => {
    const path = [...basePath, ...issue.path];
    const field =
      issue.code === "unrecognized_keys"
        ? fieldPath([...path, issue.keys[0] ?? ""])
        : fieldPath(path) || "(top level)";
    const message =
      issue.code === "unrecognized_keys"
        ? `unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}`
        : issue.message;
    const line = parsed.lineOf(issue.code === "unrecognized_keys" ? [...path, issue.keys[0] ?? ""] : path);
    const fix =
      fixes(field, issue) ??
      (issue.code === "unrecognized_keys"
        ? "remove it, or check its spelling against the reference"
        : undefined);
    return {
      file,
      field,
      message,
      ...(line === undefined ? {} : { line }),
      ...(fix === undefined ? {} : { fix }),
    };
  });
}
