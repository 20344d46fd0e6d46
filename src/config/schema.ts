import { z } from "zod";

// The one configuration schema. Every field has a safe default where one exists; the loader
// reports every problem with the field's path and a hint on how to fix it.

const listener = (port: number) =>
  z
    .object({
      host: z.string().min(1).default("127.0.0.1"),
      port: z.number().int().min(0).max(65535).default(port),
    })
    .strict();

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, "must be 64 lower-case hex characters (a SHA-256 digest)");

export const roleSchema = z.enum(["orchestrator", "auditor", "admin"]);
export type Role = z.infer<typeof roleSchema>;

export const clientSchema = z
  .object({
    id: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, "must be 1-64 of letters, digits, '_', '.', '-'"),
    role: roleSchema,
    keySha256: hex64,
    scopes: z.array(z.string().min(1)).default([]),
  })
  .strict();
export type ClientConfig = z.infer<typeof clientSchema>;

const storeSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("memory") }).strict(),
  z
    .object({
      kind: z.literal("redis"),
      url: z.string().regex(/^rediss?:\/\//, "must start with redis:// or rediss://"),
      keyPrefix: z.string().min(1).max(64).optional(),
      commandTimeoutMs: z.number().int().min(50).max(30_000).optional(),
    })
    .strict(),
]);

const keyFile = z.object({ file: z.string().min(1) }).strict();

const signingKeySchema = z
  .object({
    file: z.string().min(1),
    /** When this key may start signing; until then it is only published, so verifiers learn it first. */
    notBefore: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();

const awsProviderSchema = z
  .object({
    region: z.string().min(1).default("us-east-1"),
    /** STS and IAM endpoint override (a VPC endpoint, or the emulator). */
    endpoint: z.url().optional(),
    /**
     * Static credentials for the broker itself, from two environment variables or from a JSON
     * file `{accessKeyId, secretAccessKey}`; when absent the SDK's default chain is used.
     */
    credentials: z
      .union([
        z
          .object({
            accessKeyIdEnv: z.string().min(1).default("AWS_ACCESS_KEY_ID"),
            secretAccessKeyEnv: z.string().min(1).default("AWS_SECRET_ACCESS_KEY"),
          })
          .strict(),
        z.object({ file: z.string().min(1) }).strict(),
      ])
      .optional(),
    maxAttempts: z.number().int().min(1).max(10).default(3),
  })
  .strict();

const githubAppSchema = z
  .object({
    /** Numeric app id, or the app's client id (recommended by GitHub). */
    appId: z.union([z.number().int().positive(), z.string().min(1)]),
    privateKeyFile: z.string().min(1),
    baseUrl: z.url().default("https://api.github.com"),
    /** Host git talks to for this app's repositories (the credential helper answers for it). */
    gitHost: z.string().min(1).default("github.com"),
  })
  .strict();

export const configSchema = z
  .object({
    listen: z
      .object({ api: listener(8080).prefault({}), metadata: listener(8181).prefault({}) })
      .strict()
      .prefault({}),
    /** The broker's public base URL: the JWT issuer and the discovery document's base. */
    publicUrl: z.url().optional(),
    /** The metadata endpoint URL as agents reach it (told to them in the session answer). */
    metadataUrl: z.url().optional(),
    store: storeSchema.default({ kind: "memory" }),
    scopesDir: z.string().min(1).default("scopes"),
    clients: z.array(clientSchema).default([]),
    // Both key sets are required outside development mode (checked by the loader, which can say
    // how to generate them); development mode generates throw-away keys.
    encryption: z
      .object({
        keys: z
          .array(
            keyFile.extend({
              id: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, "must be 1-32 of A-Z a-z 0-9 _ -"),
            }),
          )
          .min(1),
      })
      .strict()
      .optional(),
    signing: z
      .object({
        algorithm: z.enum(["ES256", "RS256"]).default("ES256"),
        keys: z.array(signingKeySchema).min(1),
      })
      .strict()
      .optional(),
    providers: z
      .object({
        aws: awsProviderSchema.optional(),
        github: z
          .object({ apps: z.record(z.string(), githubAppSchema) })
          .strict()
          .optional(),
      })
      .strict()
      .prefault({}),
    sink: z
      .object({
        root: z.string().min(1),
        allowNonTmpfs: z.boolean().default(false),
        uid: z.number().int().min(0).optional(),
        gid: z.number().int().min(0).optional(),
        unixSockets: z.boolean().default(false),
        /** Where sandboxes see their session directory: the paths written into its `env` file. */
        mountPoint: z
          .string()
          .regex(/^\/[^\n\r]*$/, "must be an absolute path on one line")
          .default("/run/latchkey"),
      })
      .strict()
      .optional(),
    audit: z
      .object({ file: z.string().min(1).optional() })
      .strict()
      .prefault({}),
    limits: z
      .object({
        bodyBytes: z
          .number()
          .int()
          .min(1024)
          .max(10 * 1024 * 1024)
          .default(64 * 1024),
        maxConcurrentRevocations: z.number().int().min(1).max(64).default(8),
        authFailuresPerMinute: z.number().int().min(1).max(10_000).default(30),
        /**
         * Live sessions whose credentials every scan also looks for, those expiring soonest first:
         * reading them costs a scan about 16 ms per 1,000 on Redis.
         */
        scanLiveSessions: z.number().int().min(1).max(100_000).default(10_000),
      })
      .strict()
      .prefault({}),
    logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  })
  .strict();

export type ConfigInput = z.input<typeof configSchema>;
export type Config = z.infer<typeof configSchema>;
