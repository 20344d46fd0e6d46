import type { z } from "zod";
import { LatchkeyError } from "../errors.js";

/** Field paths and messages only: zod's messages describe the expected shape, never echo the input. */
export function validationErrors(
  issues: readonly z.core.$ZodIssue[],
  where: string,
): { field: string; message: string }[] {
  return issues.map((issue) => {
    const path = issue.code === "unrecognized_keys" ? [...issue.path, issue.keys[0] ?? ""] : issue.path;
    const field = [where, ...path.map(String)].filter(Boolean).join(".");
    const message = issue.code === "unrecognized_keys" ? "unknown field" : issue.message;
    return { field, message };
  });
}

export function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, where: "body" | "query" | "params"): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const errors = validationErrors(result.error.issues, where);
  const first = errors[0];
  throw new LatchkeyError(
    "VALIDATION_FAILED",
    first ? `${first.field}: ${first.message}` : `The ${where} is not valid.`,
    { extra: { errors } },
  );
}
