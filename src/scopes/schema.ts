import { z } from "zod";
import { grantSchema } from "../providers/grants.js";

export const scopeNamePattern = /^[a-z0-9][a-z0-9-]{0,47}$/;

export const scopeFileSchema = z
  .object({
    name: z.string().regex(scopeNamePattern, "must be 1-48 of a-z, 0-9 and '-'"),
    description: z.string().min(1).max(500),
    maxTtlSeconds: z.number().int().min(60).max(86_400),
    /** Orchestrator client ids that may request this scope; absent means any client the config allows. */
    clients: z.array(z.string().min(1)).min(1).optional(),
    grants: z.array(grantSchema).min(1).max(20),
  })
  .strict();

export type ScopeFile = z.infer<typeof scopeFileSchema>;
