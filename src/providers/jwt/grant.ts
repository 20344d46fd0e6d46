import { z } from "zod";
import { grantName } from "../grant-common.js";

/** Claims Latchkey sets itself; a grant's extra claims may never override them. */
export const registeredClaims = new Set([
  "iss",
  "sub",
  "aud",
  "exp",
  "nbf",
  "iat",
  "jti",
  "client_id",
  "scope",
  "cnf",
]);

const claimValue: z.ZodType<unknown> = z.union([
  z.string(),
  z.number(),
  z.boolean(),
  z.array(z.union([z.string(), z.number(), z.boolean()])),
]);

export const jwtGrantSchema = z
  .object({
    name: grantName,
    provider: z.literal("jwt"),
    audience: z.union([z.url(), z.array(z.url()).min(1).max(10)]),
    ttlSeconds: z.number().int().min(30).max(86_400).default(600),
    claims: z
      .record(
        z
          .string()
          .regex(/^[A-Za-z_][A-Za-z0-9_:.-]{0,63}$/, "claim names are 1-64 of letters, digits, _ : . -"),
        claimValue,
      )
      .refine((claims) => Object.keys(claims).every((name) => !registeredClaims.has(name)), {
        message: `must not set registered claims (${[...registeredClaims].join(", ")})`,
      })
      .default({}),
  })
  .strict();

export type JwtGrant = z.infer<typeof jwtGrantSchema>;

export const jwtNarrowSchema = z
  .object({
    ttlSeconds: z.number().int().min(30).optional(),
    audience: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
    /** Names of the grant's extra claims to keep; the others are left out. */
    claims: z.array(z.string()).optional(),
  })
  .strict();

export type JwtNarrow = z.infer<typeof jwtNarrowSchema>;
