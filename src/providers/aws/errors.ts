import { LatchkeyError } from "../../errors.js";

/** The AWS error code of an SDK exception (`name` for modelled ones, `Code` otherwise). */
export function awsErrorCode(error: unknown): string | undefined {
  const e = error as { name?: unknown; Code?: unknown; code?: unknown } | undefined;
  const code = e?.Code ?? e?.name;
  return typeof code === "string" ? code.replace(/Exception$/, "") : undefined;
}

const denied = new Set([
  "AccessDenied",
  "RegionDisabled",
  "InvalidClientTokenId",
  "ExpiredToken",
  "SignatureDoesNotMatch",
  "MissingAuthenticationToken",
  "IncompleteSignature",
]);
const rejected = new Set([
  "ValidationError",
  "MalformedPolicyDocument",
  "PackedPolicyTooLarge",
  "NoSuchEntity",
  "InvalidParameterValue",
]);
const unavailable = new Set([
  "Throttling",
  "ThrottlingException",
  "RequestLimitExceeded",
  "ServiceFailure",
  "ServiceUnavailable",
  "InternalFailure",
  "LimitExceeded",
]);

/**
 * Maps an STS/IAM failure to a Latchkey error that names the role and AWS's code, never the
 * broker's credentials: a refusal is PROVIDER_DENIED, a request AWS found invalid is
 * PROVIDER_REJECTED, a transient failure PROVIDER_UNAVAILABLE.
 */
export function mapAwsError(error: unknown, roleArn: string): LatchkeyError {
  const code = awsErrorCode(error) ?? "UnknownError";
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const extra = { extra: { providerCode: code, roleArn }, cause: error };
  if (denied.has(code)) {
    return new LatchkeyError(
      "PROVIDER_DENIED",
      `AWS refused to let the broker assume ${roleArn} (${code}).`,
      extra,
    );
  }
  if (rejected.has(code)) {
    return new LatchkeyError(
      "PROVIDER_REJECTED",
      `AWS rejected the request to assume ${roleArn} as invalid (${code}).`,
      extra,
    );
  }
  if (unavailable.has(code) || (status !== undefined && status >= 500) || status === undefined) {
    return new LatchkeyError(
      "PROVIDER_UNAVAILABLE",
      `AWS STS is unavailable for ${roleArn} (${code}); try again.`,
      {
        ...extra,
        headers: { "retry-after": "5" },
      },
    );
  }
  return new LatchkeyError("PROVIDER_ERROR", `AWS failed to assume ${roleArn} (${code}).`, extra);
}
