import { z } from "zod";
import { grantName } from "../grant-common.js";

const statement = z
  .object({
    Sid: z.string().optional(),
    Effect: z.enum(["Allow", "Deny"]),
    Action: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
    NotAction: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
    Resource: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
    NotResource: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
    Condition: z
      .record(z.string(), z.record(z.string(), z.union([z.string(), z.array(z.string())])))
      .optional(),
  })
  .strict()
  .refine((s) => (s.Action === undefined) !== (s.NotAction === undefined), {
    message: "a statement needs exactly one of Action and NotAction",
  })
  .refine((s) => (s.Resource === undefined) !== (s.NotResource === undefined), {
    message: "a statement needs exactly one of Resource and NotResource",
  });

export const policyDocumentSchema = z
  .object({
    Version: z.literal("2012-10-17"),
    Id: z.string().optional(),
    Statement: z.array(statement).min(1),
  })
  .strict();
export type PolicyDocument = z.infer<typeof policyDocumentSchema>;
export type PolicyStatement = PolicyDocument["Statement"][number];

const tagKey = z
  .string()
  .regex(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u, "1-128 of letters, digits, spaces and _.:/=+-@");
const tagValue = z
  .string()
  .regex(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u, "0-256 of letters, digits, spaces and _.:/=+-@");

export const awsGrantSchema = z
  .object({
    name: grantName,
    provider: z.literal("aws"),
    roleArn: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/,
        "must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)",
      ),
    durationSeconds: z.number().int().min(900).max(43_200).default(900),
    sessionPolicy: policyDocumentSchema.optional(),
    policyArns: z
      .array(z.string().regex(/^arn:aws[a-z-]*:iam::(\d{12}|aws):policy\/\S+$/, "must be an IAM policy ARN"))
      .max(10)
      .optional(),
    tags: z
      .record(tagKey, tagValue)
      .refine((tags) => Object.keys(tags).every((k) => !k.toLowerCase().startsWith("latchkey:")), {
        message: "the latchkey: tag prefix is reserved for the broker's own session tags",
      })
      .refine((tags) => Object.keys(tags).length <= 47, {
        message: "at most 47 tags (the broker adds 3 of the 50)",
      })
      .optional(),
  })
  .strict();

export type AwsGrant = z.infer<typeof awsGrantSchema>;

export const awsNarrowSchema = z
  .object({
    durationSeconds: z.number().int().min(900).optional(),
    sessionPolicy: policyDocumentSchema.optional(),
  })
  .strict();
export type AwsNarrow = z.infer<typeof awsNarrowSchema>;
