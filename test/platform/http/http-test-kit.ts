/**
 * Pieces for HTTP server tests: a logger whose JSON lines the test can read, and the health checks
 * of real parts.
 */
import { Writable } from "node:stream";
import { createLogger, type Logger } from "../../../src/platform/logging/logger.js";

export interface CapturedLog {
  readonly logger: Logger;
  /** Every record written so far, parsed. */
  records(): Record<string, unknown>[];
  /** The raw text written so far. */
  text(): string;
}

export function captureLog(): CapturedLog {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger("info", { destination });
  const text = () => chunks.join("");
  return {
    logger,
    text,
    records: () =>
      text()
        .split("\n")
        .filter((line) => line.trim() !== "")
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
