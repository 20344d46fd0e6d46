import { anthropic } from "./anthropic.js";
import { awsAccessKeyId } from "./aws-access-key.js";
import { awsSecretAccessKey } from "./aws-secret-key.js";
import { genericSecret } from "./generic-secret.js";
import { githubToken } from "./github.js";
import { googleServiceAccount } from "./google-service-account.js";
import { jwt } from "./jwt.js";
import { npmToken } from "./npm.js";
import { openai } from "./openai.js";
import { privateKey } from "./private-key.js";
import { slack } from "./slack.js";
import { stripe } from "./stripe.js";
import type { Rule } from "./types.js";

/**
 * Every generic rule, most specific first: when two findings cover the same bytes, the one from
 * the rule listed earlier is kept (a service-account file's key over the PEM inside it, a GitHub
 * token over the `token=` assignment that holds it).
 */
export const defaultRules: readonly Rule[] = [
  googleServiceAccount,
  privateKey,
  awsSecretAccessKey,
  githubToken,
  npmToken,
  anthropic,
  openai,
  slack,
  stripe,
  awsAccessKeyId,
  jwt,
  genericSecret,
];

export type { Rule, RuleContext, RuleMatch } from "./types.js";
