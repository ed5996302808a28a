import { pino, type Logger } from "pino";
import type { LogLevel } from "../config/config.js";

export type { Logger };

/**
 * Paths that may carry secrets. They are censored wherever they appear in a log record, as a
 * second line of defence: nothing should log them in the first place.
 */
const REDACTED_PATHS = [
  "req.headers.authorization",
  "req.headers['x-api-key']",
  "headers.authorization",
  "headers['x-api-key']",
  "secret",
  "*.secret",
  "token",
  "password",
];

/** JSON lines by default; human-readable when writing to a terminal. */
export function createLogger(level: LogLevel, options: { pretty?: boolean } = {}): Logger {
  const pretty = options.pretty ?? Boolean(process.stdout.isTTY);
  return pino({
    level,
    base: { service: "kartograph-iam" },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
    ...(pretty
      ? { transport: { target: "pino-pretty", options: { colorize: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname,service" } } }
      : {}),
  });
}
