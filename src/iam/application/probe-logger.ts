/**
 * What every service probe's default implementation writes to: the little of a structured logger
 * it needs. pino's Logger satisfies it, so the application layer does not depend on the logging
 * library. Each service has a probe interface (`XServiceProbe`), its pino implementation
 * (`PinoXServiceProbe`, on `PinoProbe` below) and, in tests, a recording one.
 */
import { ObservationContext } from "../../shared-kernel/observation-context.js";
import { snakeCaseFields } from "./probe-fields.js";

export interface ProbeLogger {
  info(record: Record<string, unknown>, message: string): void;
  warn(record: Record<string, unknown>, message: string): void;
  /** When present and false for "info", probes skip building records nobody will write. */
  isLevelEnabled?(level: "info"): boolean;
}

/**
 * One log line per fact: `event`, then the fact's fields in snake_case, over the observation
 * context (request, user, tenant), which never overrides them (see ObservationContext.mergeInto).
 */
export abstract class PinoProbe {
  constructor(
    protected readonly logger: ProbeLogger,
    protected readonly context: ObservationContext = ObservationContext.empty,
  ) {}

  protected info(event: string, fact: object, message: string): void {
    // Info events fire on every read; at LOG_LEVEL=warn their records would be built for nothing.
    if (this.logger.isLevelEnabled?.("info") === false) return;
    this.logger.info(this.record(event, fact), message);
  }

  protected warn(event: string, fact: object, message: string): void {
    this.logger.warn(this.record(event, fact), message);
  }

  private record(event: string, fact: object): Record<string, unknown> {
    return this.context.mergeInto({ event, ...snakeCaseFields(fact) });
  }
}
