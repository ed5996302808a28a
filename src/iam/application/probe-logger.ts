/**
 * The little of a structured logger the default probes need. pino's Logger satisfies it, so the
 * application layer does not depend on the logging library.
 */
export interface ProbeLogger {
  info(record: Record<string, unknown>, message: string): void;
  warn(record: Record<string, unknown>, message: string): void;
  /** When present and false for "info", probes skip building records nobody will write. */
  isLevelEnabled?(level: "info"): boolean;
}
