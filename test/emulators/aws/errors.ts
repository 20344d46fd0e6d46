// Every error the emulator can answer with, keyed by the AWS error code that goes on the wire.
// Status and fault type come from the STS/IAM service models (botocore error shapes, the SDK's
// `awsQueryError` traits) and the AWS common-errors list; the default message is only used when
// a failure is injected, every natural error carries its own AWS-shaped message.

export const errorCatalog = {
  AccessDenied: { status: 403, type: "Sender", message: "Access denied" },
  EntityTemporarilyUnmodifiable: {
    status: 409,
    type: "Sender",
    message: "The request was rejected because it referenced an entity that is temporarily unmodifiable.",
  },
  ExpiredToken: {
    status: 403,
    type: "Sender",
    message: "The security token included in the request is expired",
  },
  ExpiredTokenException: {
    status: 400,
    type: "Sender",
    message: "The web identity token that was passed is expired or is not valid.",
  },
  IDPCommunicationError: {
    status: 400,
    type: "Sender",
    message: "The request could not be fulfilled because the identity provider (IDP) could not be reached.",
  },
  IDPRejectedClaim: {
    status: 403,
    type: "Sender",
    message: "The identity provider (IdP) reported that authentication failed.",
  },
  IncompleteSignature: {
    status: 400,
    type: "Sender",
    message: "The request signature does not conform to AWS standards.",
  },
  InternalFailure: {
    status: 500,
    type: "Receiver",
    message: "The request processing has failed because of an unknown error, exception or failure.",
  },
  InvalidAction: {
    status: 400,
    type: "Sender",
    message: "The action or operation requested is invalid. Verify that the action is typed correctly.",
  },
  InvalidClientTokenId: {
    status: 403,
    type: "Sender",
    message: "The security token included in the request is invalid.",
  },
  InvalidIdentityToken: {
    status: 400,
    type: "Sender",
    message: "The web identity token that was passed could not be validated by Amazon Web Services.",
  },
  InvalidInput: {
    status: 400,
    type: "Sender",
    message: "The request was rejected because an invalid input was provided.",
  },
  InvalidParameterValue: {
    status: 400,
    type: "Sender",
    message: "An invalid or out-of-range value was supplied for the input parameter.",
  },
  LimitExceeded: {
    status: 409,
    type: "Sender",
    message:
      "The request was rejected because it attempted to create resources beyond the current AWS account limits.",
  },
  MalformedPolicyDocument: { status: 400, type: "Sender", message: "Syntax errors in policy." },
  MissingAction: {
    status: 400,
    type: "Sender",
    message: "The request is missing an action or a required parameter.",
  },
  MissingAuthenticationToken: {
    status: 403,
    type: "Sender",
    message: "Request is missing Authentication Token",
  },
  MissingParameter: {
    status: 400,
    type: "Sender",
    message: "A required parameter for the specified action is not supplied.",
  },
  NoSuchEntity: {
    status: 404,
    type: "Sender",
    message: "The request was rejected because it referenced a resource entity that does not exist.",
  },
  PackedPolicyTooLarge: {
    status: 400,
    type: "Sender",
    message: "Packed policy consumes 101% of allotted space",
  },
  RegionDisabledException: {
    status: 403,
    type: "Sender",
    message:
      "STS is not activated in the requested region for the account that is being asked to generate credentials.",
  },
  ServiceFailure: {
    status: 500,
    type: "Receiver",
    message: "The request processing has failed because of an unknown error, exception or failure.",
  },
  ServiceUnavailable: {
    status: 503,
    type: "Receiver",
    message: "The request has failed due to a temporary failure of the server.",
  },
  SignatureDoesNotMatch: {
    status: 403,
    type: "Sender",
    message:
      "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
  },
  Throttling: { status: 400, type: "Sender", message: "Rate exceeded" },
  UnmodifiableEntity: {
    status: 400,
    type: "Sender",
    message: "The request was rejected because service-linked roles are protected AWS resources.",
  },
  ValidationError: { status: 400, type: "Sender", message: "1 validation error detected" },
} as const satisfies Record<string, { status: number; type: "Sender" | "Receiver"; message: string }>;

export type AwsErrorCode = keyof typeof errorCatalog;

export function isAwsErrorCode(code: string): code is AwsErrorCode {
  return Object.hasOwn(errorCatalog, code);
}

export class AwsError extends Error {
  override readonly name = "AwsError";
  readonly code: AwsErrorCode;
  readonly status: number;
  readonly type: "Sender" | "Receiver";

  constructor(code: AwsErrorCode, message: string = errorCatalog[code].message) {
    super(message);
    this.code = code;
    this.status = errorCatalog[code].status;
    this.type = errorCatalog[code].type;
  }
}
