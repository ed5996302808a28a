import type { IamEvent } from "./events.js";

/**
 * Base of the aggregates that record domain events. The application stores the pulled events in
 * the outbox within the same transaction as the rows the aggregate changed.
 */
export abstract class AggregateRoot {
  private pending: IamEvent[] = [];

  protected record(event: IamEvent): void {
    this.pending.push(event);
  }

  /** Events recorded since the last pull, in order; the list is emptied. */
  pullEvents(): IamEvent[] {
    const events = this.pending;
    this.pending = [];
    return events;
  }

  /** Events recorded since the last pull, without emptying the list. */
  peekEvents(): readonly IamEvent[] {
    return this.pending;
  }
}
