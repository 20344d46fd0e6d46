import { type DestinationStream, type Logger, pino } from "pino";

// Paths pino replaces with "[redacted]" wherever a log call would carry them. Our own log calls
// never pass secrets; this is the second line, for what a library or a future change might log.
export const redactPaths = [
  "req.headers.authorization",
  "req.headers.cookie",
  "req.headers['x-aws-ec2-metadata-token']",
  "headers.authorization",
  "authorization",
  "*.authorization",
  "token",
  "*.token",
  "secret",
  "*.secret",
  "password",
  "*.password",
  "agentToken",
  "*.agentToken",
  "apiKey",
  "*.apiKey",
  "SecretAccessKey",
  "*.SecretAccessKey",
  "SessionToken",
  "*.SessionToken",
  "body",
  "*.body",
];

export interface LoggerOptions {
  level: string;
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      redact: { paths: redactPaths, censor: "[redacted]" },
      base: { service: "latchkey" },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Only what identifies a request: never headers, query strings or bodies.
      serializers: {
        req: (req: { method?: string; url?: string; id?: string }) => ({
          method: req.method,
          path: (req.url ?? "").split("?")[0],
          requestId: req.id,
        }),
        res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
        err: pino.stdSerializers.err,
      },
    },
    options.destination,
  );
}

export type { Logger } from "pino";
