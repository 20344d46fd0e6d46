// GitHub's REST error bodies: `{message, documentation_url, status}` with the status as a string.
// Messages marked "observed" are GitHub's own, quoted in public logs and in
// shared/reference/aws-github-apis.md §3; the others follow GitHub's request-validation wording
// and are the emulator's best reading (see README.md).

export const restDocs = "https://docs.github.com/rest";

export const messages = {
  // observed
  notFound: "Not Found",
  badCredentials: "Bad credentials",
  requiresAuthentication: "Requires authentication",
  jwtUndecodable: "A JSON web token could not be decoded",
  jwtIatInvalid:
    "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
  jwtExpInvalid:
    "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
  jwtExpTooFar: "'Expiration time' claim ('exp') is too far in the future",
  jwtIssInvalid: "'Issuer' claim ('iss') must be an Integer",
  integrationNotFound: "Integration not found",
  permissionsNotGranted: "The permissions requested are not granted to this installation.",
  repositoriesNotAccessible:
    "There is at least one repository that does not exist or is not accessible to the parent installation.",
  problemsParsingJson: "Problems parsing JSON",
  // observed as git prints them ("remote: ...")
  gitInvalidCredentials:
    "Invalid username or token. Password authentication is not supported for Git operations.",
  gitRepositoryNotFound: "Repository not found.",
  // inferred
  tooManyRepositories: "Invalid request.\n\nNo more than 500 repositories may be requested.",
  rateLimited: "API rate limit exceeded.",
  secondaryRateLimited:
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
} as const;

export interface GithubErrorBody {
  message: string;
  documentation_url: string;
  status: string;
}

export interface GithubError {
  status: number;
  body: GithubErrorBody;
  headers?: Record<string, string>;
}

export function githubError(
  status: number,
  message: string,
  documentationUrl: string = restDocs,
  headers?: Record<string, string>,
): GithubError {
  const body = { message, documentation_url: documentationUrl, status: String(status) };
  return headers === undefined ? { status, body } : { status, body, headers };
}

/** GitHub's schema-validation wording for a request field of the wrong kind. */
export function invalidField(pointer: string, value: unknown, expected: string): string {
  return `Invalid request.\n\nFor '${pointer}', ${JSON.stringify(value)} is not ${expected}.`;
}

export function notPermittedKey(key: string): string {
  return `Invalid request.\n\n${JSON.stringify(key)} is not a permitted key.`;
}
