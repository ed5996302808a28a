import { pino, type DestinationStream, type Logger, type LoggerOptions as LoggerSettings } from "pino";
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

export interface LoggerOptions {
  /** Human-readable output; defaults to whether stdout is a terminal. */
  readonly pretty?: boolean;
  /** Where JSON lines go instead of stdout (tests capture the log this way). */
  readonly destination?: DestinationStream;
}

/** JSON lines by default; human-readable when writing to a terminal. */
export function createLogger(level: LogLevel, options: LoggerOptions = {}): Logger {
  const pretty = options.destination === undefined && (options.pretty ?? Boolean(process.stdout.isTTY));
  const settings: LoggerSettings = {
    level,
    base: { service: "kartograph-iam" },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
    ...(pretty
      ? { transport: { target: "pino-pretty", options: { colorize: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname,service" } } }
      : {}),
  };
  return options.destination === undefined ? pino(settings) : pino(settings, options.destination);
}
