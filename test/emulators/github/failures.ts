// Failure injection: the next N requests to a route fail with a chosen status, shaped as GitHub
// sends it (rate limits carry their headers), so clients' retry and error paths can be tested.
import { STATUS_CODES } from "node:http";
import { type GithubError, githubError, messages } from "./errors.js";

const rateLimitDocs = "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api";

export interface FailureInjector {
  add(route: string, status: number, times: number): void;
  /** The status to fail this request with, consuming one planned failure, if one is due. */
  take(route: string): number | undefined;
}

export function createFailureInjector(routes: readonly string[]): FailureInjector {
  const planned = new Map<string, { status: number; remaining: number }[]>();
  return {
    add(route, status, times) {
      if (!routes.includes(route)) {
        throw new TypeError(`unknown route "${route}"; known routes: ${routes.join(", ")}`);
      }
      if (!Number.isInteger(status) || status < 400 || status > 599) {
        throw new TypeError(`status must be an HTTP error status, got ${status}`);
      }
      if (!Number.isInteger(times) || times < 1)
        throw new TypeError(`times must be a positive integer, got ${times}`);
      planned.set(route, [...(planned.get(route) ?? []), { status, remaining: times }]);
    },
    take(route) {
      const queue = planned.get(route);
      const next = queue?.[0];
      if (queue === undefined || next === undefined) return undefined;
      next.remaining -= 1;
      if (next.remaining === 0) queue.shift();
      return next.status;
    },
  };
}

export function injectedError(status: number, nowMs: number): GithubError {
  const now = Math.floor(nowMs / 1000);
  if (status === 403) {
    return githubError(403, messages.rateLimited, rateLimitDocs, {
      "x-ratelimit-limit": "5000",
      "x-ratelimit-remaining": "0",
      "x-ratelimit-used": "5000",
      "x-ratelimit-reset": String(now + 3600),
      "x-ratelimit-resource": "core",
    });
  }
  if (status === 429)
    return githubError(429, messages.secondaryRateLimited, rateLimitDocs, { "retry-after": "60" });
  return githubError(status, STATUS_CODES[status] ?? "Error");
}
