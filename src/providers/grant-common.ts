import { z } from "zod";

export const grantName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,31}$/, "must be 1-32 of a-z, 0-9 and '-', starting with a letter or digit");
