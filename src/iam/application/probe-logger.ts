/**
 * The little of a structured logger the default probes need. pino's Logger satisfies it, so the
 * application layer does not depend on the logging library.
 */
export interface ProbeLogger {
  info(record: Record<string, unknown>, message: string): void;
  warn(record: Record<string, unknown>, message: string): void;
  error(record: Record<string, unknown>, message: string): void;
  /** When present and false for "info", probes skip building records nobody will write. */
  isLevelEnabled?(level: "info"): boolean;
}

/** What a failure says, for a log record (never a stack: the log shows the error's message). */
export function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
