/**
 * Commands around the relationship sync: a standalone outbox worker, `reconcile`, and the dead
 * letters of the outbox.
 */
import { loadConfig, type AppConfig } from "../platform/config/config.js";
import type { DatabaseHandle } from "../platform/database/database.js";
import { openDatabase } from "../platform/database/open-database.js";
import { createLogger } from "../platform/logging/logger.js";
import { listDeadLetters, redriveDeadLetters } from "../platform/outbox/outbox-store.js";
import { describeRefused } from "../platform/spicedb/accepted-updates.js";
import { claimSpiceDbMode } from "../platform/spicedb/spicedb-mode-claim.js";
import { startSpiceDb } from "../platform/spicedb/spicedb-engine.js";
import { claimSpiceDbForDatabase } from "../platform/spicedb/installation-claim.js";
import { formatRelationship } from "../shared-kernel/authorization/authorization-port.js";
import { reconcile } from "../iam/infrastructure/reconciler.js";
import { createOutboxRuntime } from "../outbox-runtime.js";
import { UsageError, parseCommandArgs, type Command } from "./command.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The in-process SpiceDB lives inside `serve`; a separate process would write to its own copy. */
function requireSpiceDbCluster(config: AppConfig, command: string): void {
  if (config.spicedb.endpoint === null) {
    throw new UsageError(
      `${command} needs a SpiceDB cluster (SPICEDB_ENDPOINT). With the embedded SpiceDB, \`serve\` runs the worker itself and reloads SpiceDB from the database at every start.`,
    );
  }
}

export async function withDatabase<T>(config: AppConfig, run: (database: DatabaseHandle) => Promise<T>): Promise<T> {
  // Migrating first makes these commands work on a database no server has started yet.
  const database = await openDatabase(config.database, { migrate: true });
  try {
    return await run(database);
  } finally {
    await database.close();
  }
}

export const workerCommand: Command = {
  summary: "Run only the outbox worker (for API nodes started with KARTOGRAPH_OUTBOX_ENABLED=false)",
  usage:
    "Usage: kartograph-iam worker\n\nApplies outbox entries to the SpiceDB cluster named by SPICEDB_ENDPOINT, and seals audit events,\nuntil SIGTERM/SIGINT;\nseveral workers may run at once. Needs KARTOGRAPH_DB_URL (or KARTOGRAPH_DB_HOST) and SPICEDB_ENDPOINT.",
  async run(args) {
    parseCommandArgs(args, this.usage, {});
    const config = loadConfig();
    requireSpiceDbCluster(config, "kartograph-iam worker");
    const logger = createLogger(config.logLevel);
    const database = await openDatabase(config.database, { migrate: true });
    const spicedb = await startSpiceDb(config.spicedb);
    // Beside the API processes of the cluster; refused while one with an in-process SpiceDB serves the database.
    const claim = await claimSpiceDbMode(config.database, "remote").catch(async (error: unknown) => {
      await Promise.all([database.close(), spicedb.close()]);
      throw error;
    });
    // And the SpiceDB must be this database's, not another's.
    await claimSpiceDbForDatabase(database.db, spicedb.authorization, config.spicedb.endpoint).catch(async (error: unknown) => {
      await Promise.all([database.close(), spicedb.close(), claim?.release()]);
      throw error;
    });
    const runtime = await createOutboxRuntime(config, database, spicedb, logger);
    await runtime.worker.start();
    runtime.sealer.start();
    await new Promise<void>((resolve) => {
      process.once("SIGTERM", () => resolve());
      process.once("SIGINT", () => resolve());
    });
    logger.info("stopping: finishing the batch in hand");
    await runtime.worker.stop();
    await runtime.sealer.stop();
    await database.close();
    await spicedb.close();
    await claim?.release();
  },
};

export const reconcileCommand: Command = {
  summary: "Compare SpiceDB with the database and repair it (--dry-run only reports)",
  usage:
    "Usage: kartograph-iam reconcile [--dry-run]\n\nDerives every relationship from the IAM tables, adds those SpiceDB lacks and deletes\nrelationships of IAM resource types that no table supports. Prints each change, and each\nrepair SpiceDB refuses (marked !; the others are still applied, and the exit code is 2).",
  async run(args) {
    const { values } = parseCommandArgs(args, this.usage, { "dry-run": { type: "boolean" } });
    const config = loadConfig();
    requireSpiceDbCluster(config, "kartograph-iam reconcile");
    const dryRun = values["dry-run"] === true;
    const spicedb = await startSpiceDb(config.spicedb);
    try {
      const report = await withDatabase(config, async (database) => {
        // Reconciling another database's SpiceDB would delete all of its relationships.
        await claimSpiceDbForDatabase(database.db, spicedb.authorization, config.spicedb.endpoint, { checkOnly: dryRun });
        return reconcile(database.db, spicedb.authorization, { dryRun });
      });
      for (const r of report.missing) process.stdout.write(`+ ${formatRelationship(r)}\n`);
      for (const r of report.orphaned) process.stdout.write(`- ${formatRelationship(r)}\n`);
      const verb = dryRun ? "would add" : "added";
      const verb2 = dryRun ? "would delete" : "deleted";
      for (const r of report.refused) process.stdout.write(`! ${describeRefused(r)}\n`);
      const refused = report.refused.length;
      const refusedOf = (operation: string) => report.refused.filter((r) => r.update.operation === operation).length;
      process.stdout.write(
        `${report.expected} relationships expected, ${report.found} found in SpiceDB: ` +
          `${verb} ${report.missing.length - refusedOf("touch")}, ${verb2} ${report.orphaned.length - refusedOf("delete")}` +
          (refused > 0 ? `; SpiceDB refused ${refused} (listed with "!")\n` : "\n"),
      );
      // Exit 2: the repair ran but is incomplete (1 stays "could not run at all").
      if (refused > 0) process.exitCode = 2;
    } finally {
      await spicedb.close();
    }
  },
};

export const outboxCommand: Command = {
  summary: "Dead letters of the outbox: `outbox failed` lists them, `outbox retry <id>|--all` re-drives",
  usage:
    "Usage: kartograph-iam outbox failed\n       kartograph-iam outbox retry <entry-id>... | --all\n\nDead letters are entries that failed KARTOGRAPH_OUTBOX_MAX_RETRIES times or can never be\napplied. Re-driven entries are applied in order, at once by the running\nworkers (told by NOTIFY); an id that is not a dead letter is refused and nothing is queued.\nWith the embedded database, stop the service first (PGlite is single-process).",
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, this.usage, { all: { type: "boolean" } }, true);
    const [action, ...ids] = positionals;
    const config = loadConfig();
    if (action === "failed") {
      if (ids.length > 0 || values.all) throw new UsageError(`outbox failed takes no arguments\n${this.usage}`);
      const dead = await withDatabase(config, (database) => listDeadLetters(database.db));
      if (dead.length === 0) {
        process.stdout.write("no dead letters\n");
        return;
      }
      for (const d of dead) {
        process.stdout.write(
          `${d.id}  #${d.sequence}  ${d.eventType}  tenant ${d.tenantId}  ${d.retryCount} attempt(s), failed ${d.failedAt.toISOString()}\n    ${d.lastError ?? ""}\n`,
        );
      }
      return;
    }
    if (action === "retry") {
      if ((ids.length === 0) === !values.all) {
        throw new UsageError(`outbox retry needs entry ids or --all (not both)\n${this.usage}`);
      }
      const invalid = ids.filter((id) => !UUID.test(id));
      if (invalid.length > 0) throw new UsageError(`not an outbox entry id: ${invalid.join(", ")}\n${this.usage}`);
      const count = await withDatabase(config, async (database) => {
        // All or nothing: a mistyped id, or one applied since `outbox failed` listed it, would
        // otherwise vanish into a count lower than expected.
        const dead = ids.length === 0 ? new Set<string>() : new Set((await listDeadLetters(database.db)).map((d) => d.id.toLowerCase()));
        const unknown = ids.filter((id) => !dead.has(id.toLowerCase()));
        if (unknown.length > 0) {
          throw new UsageError(`not a dead letter (see \`outbox failed\`): ${unknown.join(", ")}; nothing was queued again`);
        }
        return redriveDeadLetters(database.db, values.all ? null : ids);
      });
      process.stdout.write(`${count} dead letter(s) queued again\n`);
      return;
    }
    throw new UsageError(`outbox needs "failed" or "retry"\n${this.usage}`);
  },
};
