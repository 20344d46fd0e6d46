import { z } from "zod";
import { awsGrantSchema } from "./aws/grant.js";
import { githubGrantSchema } from "./github/grant.js";
import { jwtGrantSchema } from "./jwt/grant.js";
import type { ProviderKind } from "./types.js";

// Grant schemas by provider, needing no configuration, so scope files can be checked anywhere.
export const grantSchemas = {
  aws: awsGrantSchema,
  github: githubGrantSchema,
  jwt: jwtGrantSchema,
} as const satisfies Record<ProviderKind, z.ZodType>;

export const grantSchema = z.discriminatedUnion("provider", [
  awsGrantSchema,
  githubGrantSchema,
  jwtGrantSchema,
]);
export type Grant = z.infer<typeof grantSchema>;
export type GrantOf<K extends ProviderKind> = Extract<Grant, { provider: K }>;
