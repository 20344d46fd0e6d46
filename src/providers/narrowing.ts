import { LatchkeyError } from "../errors.js";

/** The one way a provider refuses a request that asks for more than its grant allows. */
export function widening(field: string, detail: string): LatchkeyError {
  return new LatchkeyError("GRANT_WIDENING", `${field}: ${detail}`, { extra: { field } });
}

export function asList<T>(value: T | readonly T[]): T[] {
  return Array.isArray(value) ? [...value] : [value as T];
}
