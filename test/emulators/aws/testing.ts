// Real SDK clients pointed at an emulator, for tests: one attempt per call (the SDK would retry
// throttling, 5xx and `LimitExceeded`), and an optional clock offset for tests that move the
// emulator's clock (the SDK signs with its own clock plus `systemClockOffset`).
import assert from "node:assert/strict";
import { IAMClient } from "@aws-sdk/client-iam";
import { STSClient } from "@aws-sdk/client-sts";
import type { AwsEmulator } from "./types.js";

export interface TestCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

interface ClientOptions {
  /** Milliseconds the emulator's clock runs ahead of the real one. */
  readonly clockOffsetMs?: number;
  readonly region?: string;
}

function config(aws: AwsEmulator, credentials: TestCredentials, options: ClientOptions) {
  return {
    endpoint: aws.endpoint,
    region: options.region ?? aws.region,
    credentials,
    maxAttempts: 1,
    systemClockOffset: options.clockOffsetMs ?? 0,
  };
}

export function stsClient(
  aws: AwsEmulator,
  credentials: TestCredentials,
  options: ClientOptions = {},
): STSClient {
  return new STSClient(config(aws, credentials, options));
}

export function iamClient(
  aws: AwsEmulator,
  credentials: TestCredentials,
  options: ClientOptions = {},
): IAMClient {
  return new IAMClient(config(aws, credentials, options));
}

/** The temporary credentials of an AssumeRole / AssumeRoleWithWebIdentity answer. */
export function sessionCredentials(output: {
  readonly Credentials?:
    | {
        readonly AccessKeyId?: string | undefined;
        readonly SecretAccessKey?: string | undefined;
        readonly SessionToken?: string | undefined;
      }
    | undefined;
}): Required<TestCredentials> {
  const c = output.Credentials;
  assert.ok(c?.AccessKeyId && c.SecretAccessKey && c.SessionToken, "the answer carries credentials");
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
}

export interface ExpectedAwsError {
  /** The SDK error's `name`: the modelled exception class, or the wire code when unmodelled. */
  readonly name: string;
  readonly status: number;
  /** Exact message, or a pattern for messages that carry generated values. */
  readonly message: string | RegExp;
}

/** Awaits a call that must fail and checks what the SDK made of the emulator's error. */
export async function expectAwsError(call: Promise<unknown>, expected: ExpectedAwsError): Promise<void> {
  await assert.rejects(call, (error: unknown) => {
    const e = error as {
      name?: string;
      message?: string;
      $metadata?: { httpStatusCode?: number; requestId?: string };
    };
    assert.equal(e.name, expected.name);
    assert.equal(e.$metadata?.httpStatusCode, expected.status);
    if (typeof expected.message === "string") assert.equal(e.message, expected.message);
    else assert.match(e.message ?? "", expected.message);
    assert.match(e.$metadata?.requestId ?? "", /^[0-9a-f-]{36}$/);
    return true;
  });
}
