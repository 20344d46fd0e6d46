import { LatchkeyError } from "../../errors.js";

/** What a failed GitHub call said, read from an @octokit/request error without its request (which holds credentials). */
export interface GithubFailure {
  /** GitHub's HTTP status; undefined when GitHub was not reached or did not answer in time. */
  status: number | undefined;
  /** GitHub's own message, or why GitHub could not be reached. */
  message: string;
  headers: Record<string, string | undefined>;
}

const MAX_MESSAGE = 300;

const tidy = (text: string) => text.replace(/\s+/g, " ").trim().slice(0, MAX_MESSAGE);

export function describeFailure(error: unknown): GithubFailure {
  const e = error as {
    status?: unknown;
    message?: unknown;
    response?: { headers?: Record<string, string | undefined>; data?: unknown };
  };
  if (e?.response === undefined || typeof e.status !== "number") {
    // @octokit/request reports an unreachable host or a timeout as status 500 with no response.
    return { status: undefined, message: tidy(String(e?.message ?? "request failed")), headers: {} };
  }
  const data = e.response.data as { message?: unknown } | undefined;
  const message = typeof data?.message === "string" ? data.message : `HTTP ${e.status}`;
  return { status: e.status, message: tidy(message), headers: e.response.headers ?? {} };
}

/** The short, secret-free form of a failure for records and logs: "GitHub 503: Service Unavailable". */
export function failureSummary(failure: GithubFailure): string {
  return failure.status === undefined
    ? `GitHub unreachable: ${failure.message}`
    : `GitHub ${failure.status}: ${failure.message}`;
}

function isRateLimit(failure: GithubFailure): boolean {
  return (
    failure.status === 429 ||
    failure.headers["retry-after"] !== undefined ||
    failure.headers["x-ratelimit-remaining"] === "0"
  );
}

function retryAfterSeconds(failure: GithubFailure, nowMs: number): string {
  const retryAfter = Number(failure.headers["retry-after"]);
  if (Number.isInteger(retryAfter) && retryAfter > 0) return String(retryAfter);
  const reset = Number(failure.headers["x-ratelimit-reset"]);
  if (Number.isInteger(reset) && reset * 1000 > nowMs) return String(Math.ceil(reset - nowMs / 1000));
  return "5";
}

export interface GithubTarget {
  app: string;
  installationId?: number;
  /** Set when the failing call looked the installation up by owner. */
  owner?: string;
}

/**
 * Maps a failed GitHub App call to a Latchkey error that names the app, the installation (or the
 * owner it was looked up by) and GitHub's status, never a token or key: GitHub refusing the app's
 * JWT is PROVIDER_DENIED, an unknown installation or a request GitHub found invalid is
 * PROVIDER_REJECTED, rate limits and outages are PROVIDER_UNAVAILABLE.
 */
export function mapGithubError(error: unknown, target: GithubTarget, nowMs: number): LatchkeyError {
  const failure = describeFailure(error);
  const { status } = failure;
  const where =
    target.installationId !== undefined
      ? `installation ${target.installationId} of GitHub app ${target.app}`
      : `GitHub app ${target.app} on ${target.owner}`;
  const options = {
    extra: {
      app: target.app,
      ...(target.installationId === undefined ? {} : { installationId: target.installationId }),
      ...(target.owner === undefined ? {} : { owner: target.owner }),
      ...(status === undefined ? {} : { githubStatus: status }),
    },
    // A plain error, so the debug log gets GitHub's answer but never the request's headers.
    cause: new Error(failureSummary(failure)),
  };
  if (status === undefined || status >= 500) {
    return new LatchkeyError(
      "PROVIDER_UNAVAILABLE",
      `GitHub is unavailable for ${where} (${failureSummary(failure)}); try again.`,
      {
        ...options,
        headers: { "retry-after": "5" },
      },
    );
  }
  if ((status === 403 || status === 429) && isRateLimit(failure)) {
    return new LatchkeyError(
      "PROVIDER_UNAVAILABLE",
      `GitHub rate-limited ${where} (${status}: ${failure.message}); try again later.`,
      { ...options, headers: { "retry-after": retryAfterSeconds(failure, nowMs) } },
    );
  }
  if (status === 401 || status === 403) {
    return new LatchkeyError(
      "PROVIDER_DENIED",
      `GitHub refused the app credentials of ${where} (${status}: ${failure.message}).`,
      options,
    );
  }
  if (status === 404) {
    return new LatchkeyError(
      "PROVIDER_REJECTED",
      target.installationId !== undefined
        ? `GitHub knows no ${where} (404).`
        : `GitHub app ${target.app} is not installed on ${target.owner} (404).`,
      options,
    );
  }
  if (status === 422) {
    return new LatchkeyError(
      "PROVIDER_REJECTED",
      `GitHub refused a token for ${where} (422): ${failure.message}`,
      options,
    );
  }
  return new LatchkeyError(
    "PROVIDER_ERROR",
    `GitHub failed for ${where} (${failureSummary(failure)}).`,
    options,
  );
}
