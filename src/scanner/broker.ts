// Fetching a session's matchers from a running broker, for `latchkey scan --session`. Matchers
// carry no secret, so the CLI can hold them; the API key comes from the environment only.

import { z } from "zod";
import { type IssuedMatcher, issuedMatcherSchema } from "./matchers.js";

const SESSION_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{1,47}$/;
const TIMEOUT_MS = 15_000;

const matchersResponse = z.object({ matchers: z.array(issuedMatcherSchema) });
const problem = z.object({ code: z.string(), detail: z.string().optional() });

/** A failure to obtain matchers, with a message safe to print. */
export class MatcherFetchError extends Error {
  override readonly name = "MatcherFetchError";
}

export interface FetchMatchersOptions {
  broker: string;
  sessionId: string;
  apiKey: string;
}

export async function fetchMatchers(options: FetchMatchersOptions): Promise<IssuedMatcher[]> {
  if (!SESSION_ID.test(options.sessionId)) {
    throw new MatcherFetchError(`${JSON.stringify(options.sessionId)} is not a session id`);
  }
  let base: URL;
  try {
    base = new URL(options.broker);
  } catch {
    throw new MatcherFetchError(`${JSON.stringify(options.broker)} is not a URL`);
  }
  if (base.protocol !== "http:" && base.protocol !== "https:") {
    throw new MatcherFetchError(`the broker URL must be http or https, not ${base.protocol}`);
  }
  const url = new URL(`v1/sessions/${encodeURIComponent(options.sessionId)}/matchers`, withSlash(base));
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { authorization: `Bearer ${options.apiKey}`, accept: "application/json" },
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
    throw new MatcherFetchError(`cannot reach the broker at ${base.origin} (${cause})`);
  }
  const body: unknown = await response.json().catch(() => undefined);
  if (!response.ok) {
    const parsed = problem.safeParse(body);
    const reason = parsed.success
      ? `${parsed.data.code}${parsed.data.detail ? `: ${parsed.data.detail}` : ""}`
      : response.statusText;
    throw new MatcherFetchError(`the broker answered ${response.status} ${reason}`);
  }
  const parsed = matchersResponse.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new MatcherFetchError(
      `the broker's answer is not a list of matchers (${issue ? `${issue.path.join(".")}: ${issue.message}` : "invalid"})`,
    );
  }
  return parsed.data.matchers;
}

function withSlash(url: URL): URL {
  return url.pathname.endsWith("/") ? url : new URL(`${url.href}/`);
}
