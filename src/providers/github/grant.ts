import { z } from "zod";
import { grantName } from "../grant-common.js";

export const permissionLevels = ["read", "write", "admin"] as const;
export type PermissionLevel = (typeof permissionLevels)[number];

const permissionName = z
  .string()
  .regex(
    /^[a-z][a-z_]{1,63}$/,
    "GitHub permission names are lower-case with underscores, e.g. pull_requests",
  );

const repositoryName = z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, "must be a repository name");

export const githubGrantSchema = z
  .object({
    name: grantName,
    provider: z.literal("github"),
    /** The app's name under providers.github.apps in the broker config. */
    app: z.string().min(1),
    owner: z
      .string()
      .regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/, "must be a GitHub user or organization login"),
    /** When absent, the installation is looked up by owner. */
    installationId: z.number().int().positive().optional(),
    repositories: z.array(repositoryName).min(1).max(500),
    permissions: z.record(permissionName, z.enum(permissionLevels)).refine((p) => Object.keys(p).length > 0, {
      message: "name at least one permission",
    }),
  })
  .strict();

export type GithubGrant = z.infer<typeof githubGrantSchema>;

// Names are held to the grant's own patterns, so a refusal can name the field without echoing
// arbitrary input.
export const githubNarrowSchema = z
  .object({
    repositories: z.array(repositoryName).min(1).max(500).optional(),
    permissions: z
      .record(permissionName, z.enum(permissionLevels))
      .refine((p) => Object.keys(p).length > 0, { message: "name at least one permission" })
      .optional(),
  })
  .strict();
export type GithubNarrow = z.infer<typeof githubNarrowSchema>;
