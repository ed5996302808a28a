/**
 * PGlite runs PostgreSQL in single-user mode, without the autovacuum worker. Left alone, the rows
 * the outbox updates and deletes all day are never reclaimed, and the planner keeps the table
 * statistics of the last start however much the tenants grow. This does autovacuum's job on a
 * timer, with autovacuum's default thresholds, for the service's own tables.
 */
import { sql } from "drizzle-orm";
import { queryRows, type Queryable } from "./database.js";

/** The service's tables (everything the schema creates). */
export const SERVICE_TABLES = [
  "tenants",
  "users",
  "workspaces",
  "groups",
  "api_keys",
  "tenant_members",
  "workspace_members",
  "group_members",
  "tenant_invitations",
  "scim_tokens",
  "scim_users",
  "user_subjects",
  "group_list_versions",
  "outbox",
  "authz_revision",
  "audit_events",
  "audit_seals",
  "audit_unsealed",
  "audit_chains",
] as const;

// PostgreSQL's autovacuum defaults: a table is vacuumed once its dead rows pass 50 + 20 % of its
// live rows, and analyzed once its changed rows pass 50 + 10 %.
const VACUUM_BASE = 50;
const VACUUM_SCALE = 0.2;
const ANALYZE_BASE = 50;
const ANALYZE_SCALE = 0.1;

export interface MaintenanceRun {
  readonly vacuumed: readonly string[];
  readonly analyzed: readonly string[];
}

interface TableActivity {
  relname: string;
  n_live_tup: string | number;
  n_dead_tup: string | number;
  n_mod_since_analyze: string | number;
}

/** Vacuums and analyzes the tables that crossed autovacuum's thresholds; returns what it did. */
export async function maintainTables(db: Queryable): Promise<MaintenanceRun> {
  const activity = await queryRows<TableActivity>(
    db,
    sql`SELECT relname, n_live_tup, n_dead_tup, n_mod_since_analyze FROM pg_stat_user_tables
        WHERE schemaname = 'public' AND relname IN (${sql.join(SERVICE_TABLES.map((table) => sql`${table}`), sql`, `)})
        ORDER BY relname`,
  );
  const vacuumed: string[] = [];
  const analyzed: string[] = [];
  for (const table of activity) {
    const live = Number(table.n_live_tup);
    const vacuum = Number(table.n_dead_tup) > VACUUM_BASE + VACUUM_SCALE * live;
    const analyze = Number(table.n_mod_since_analyze) > ANALYZE_BASE + ANALYZE_SCALE * live;
    // The names come from SERVICE_TABLES through the catalog, never from a request.
    if (vacuum) await db.execute(sql.raw(`VACUUM (ANALYZE) "${table.relname}"`));
    else if (analyze) await db.execute(sql.raw(`ANALYZE "${table.relname}"`));
    if (vacuum) vacuumed.push(table.relname);
    if (vacuum || analyze) analyzed.push(table.relname);
  }
  return { vacuumed, analyzed };
}

export interface MaintenanceScheduleOptions {
  readonly intervalMs: number;
  readonly onRun?: (run: MaintenanceRun, durationMs: number) => void;
  readonly onError?: (error: unknown) => void;
}

/** Runs `maintainTables` every interval until stopped; never keeps the process alive by itself. */
export class MaintenanceSchedule {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly db: Queryable,
    private readonly options: MaintenanceScheduleOptions,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  /** Stops the timer and waits for a run in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.runOnce().finally(() => {
        this.running = null;
        this.schedule();
      });
    }, this.options.intervalMs);
    this.timer.unref();
  }

  private async runOnce(): Promise<void> {
    const started = performance.now();
    try {
      const run = await maintainTables(this.db);
      if (run.analyzed.length > 0) this.options.onRun?.(run, performance.now() - started);
    } catch (error) {
      this.options.onError?.(error);
    }
  }
}
