/**
 * Gauges whose values come from one database read at scrape time: the registry collects them
 * together, so they share a single read per scrape; while the database is away they report no
 * sample (unknown) rather than failing the whole scrape.
 */
import { Gauge, type Registry } from "prom-client";

export interface ScrapeReadGauge<T> {
  readonly name: string;
  readonly help: string;
  readonly value: (read: T) => number;
}

export function registerScrapeReadGauges<T>(registry: Registry, read: () => Promise<T>, gauges: readonly ScrapeReadGauge<T>[]): void {
  let reading: Promise<T | null> | null = null;
  const shared = () => {
    reading ??= read()
      .catch(() => null)
      .finally(() => {
        reading = null;
      });
    return reading;
  };
  for (const { name, help, value } of gauges) {
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        const result = await shared();
        this.reset();
        if (result !== null) this.set(value(result));
      },
    });
  }
}
