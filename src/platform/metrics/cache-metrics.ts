/**
 * The in-process caches in /metrics, by `cache` label. The caches count hits, misses and
 * evictions in plain numbers (a decision-cache hit pays an increment, not a metrics call); the
 * figures are copied into the registry only when /metrics is scraped. Hit ratio per cache:
 * rate(hits) / (rate(hits) + rate(misses)).
 */
import { Counter, Gauge, type Registry } from "prom-client";
import type { CacheStats, CacheStatsSource } from "../../shared-kernel/bounded-cache.js";

export function registerCacheMetrics(registry: Registry, sources: readonly CacheStatsSource[]): void {
  const read = (): CacheStats[] => sources.map((source) => source.stats());
  const counter = (name: string, help: string, value: (stats: CacheStats) => number) =>
    new Counter({
      name,
      help,
      labelNames: ["cache"],
      registers: [registry],
      collect() {
        // The cache holds the running total; a counter cannot be set, so it is rebuilt from it.
        this.reset();
        for (const stats of read()) this.inc({ cache: stats.name }, value(stats));
      },
    });
  const gauge = (name: string, help: string, value: (stats: CacheStats) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ["cache"],
      registers: [registry],
      collect() {
        for (const stats of read()) this.set({ cache: stats.name }, value(stats));
      },
    });
  counter("kartograph_cache_hits_total", "Look-ups answered by an in-process cache", (s) => s.hits);
  counter("kartograph_cache_misses_total", "Look-ups an in-process cache could not answer (absent or stale entry)", (s) => s.misses);
  counter("kartograph_cache_evictions_total", "Entries pushed out of an in-process cache by its entry or size bound", (s) => s.evictions);
  gauge("kartograph_cache_entries", "Entries an in-process cache holds", (s) => s.entries);
  gauge("kartograph_cache_bytes", "Weight of an in-process cache's entries (0 for caches bounded by entries only)", (s) => s.bytes);
}
