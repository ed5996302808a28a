#!/usr/bin/env node
/**
 * kartograph-iam command line: serve | migrate (more commands arrive with later features).
 * Start-up failures print one line naming the cause; the stack only with LOG_LEVEL=debug.
 */
import { createService } from "./app.js";
import { UsageError, parseCommandArgs, type Command } from "./cli/command.js";
import { outboxCommand, reconcileCommand, workerCommand } from "./cli/outbox-commands.js";
import { adminCommand } from "./cli/admin-commands.js";
import { auditCommand } from "./cli/audit-commands.js";
import { loadConfig, type AppConfig } from "./platform/config/config.js";
import { openDatabase } from "./platform/database/open-database.js";
import { createLogger } from "./platform/logging/logger.js";
import { assertPortFree, portInUse } from "./platform/http/port-check.js";
import { tokenCommand } from "./cli/token-command.js";

const EXPECTED_START_ERRORS = new Set([
  "ConfigError",
  "DatabaseStartError",
  "DataDirectoryError",
  "SpiceDbModeConflictError",
  "SpiceDbOwnedElsewhereError",
  "SpiceDbStartError",
  "UsageError",
]);

function wantsHelp(args: string[]): boolean {
  return args.includes("--help") || args.includes("-h");
}

function parse(args: string[], usage: string) {
  return parseCommandArgs(args, usage, {});
}

const commands: Record<string, Command> = {
  serve: {
    summary: "Run the HTTP API (and the outbox worker unless KARTOGRAPH_OUTBOX_ENABLED=false)",
    usage: "Usage: kartograph-iam serve\n\nApplies pending migrations, then serves on HOST:PORT (default 127.0.0.1:8000).\nConfiguration comes from environment variables; see README.md.",
    async run(args) {
      parse(args, this.usage);
      const config = loadConfig();
      await assertPortFree(config.host, config.port);
      const logger = createLogger(config.logLevel);
      const service = await createService(config, logger, { migrate: true });
      let address: string;
      try {
        address = await service.server.listen({ host: config.host, port: config.port });
      } catch (error) {
        await service.close();
        if ((error as { code?: string }).code === "EADDRINUSE") throw portInUse(config.host, config.port);
        throw error;
      }
      logger.info(
        // The bound address, not the configured one: PORT=0 picks a free port.
        {
          database: service.database.kind,
          read_replica: service.database.replica === null ? "none" : "configured",
          spicedb: service.spicedb.mode,
          address,
        },
        "kartograph-iam ready",
      );
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, "shutting down: finishing in-flight requests");
        service.close().then(
          () => {
            logger.info("stopped");
            logger.flush();
            process.exit(0);
          },
          (error: unknown) => {
            logger.error({ err: error }, "shutdown failed");
            process.exit(1);
          },
        );
      };
      process.once("SIGTERM", () => stop("SIGTERM"));
      process.once("SIGINT", () => stop("SIGINT"));
    },
  },
  token: tokenCommand,
  migrate: {
    summary: "Apply pending database migrations and exit",
    usage: "Usage: kartograph-iam migrate\n\nApplies pending migrations to the configured database (PGlite in KARTOGRAPH_DATA_DIR,\nor the server named by KARTOGRAPH_DB_URL / KARTOGRAPH_DB_HOST) under an advisory lock.",
    async run(args) {
      parse(args, this.usage);
      const config: AppConfig = loadConfig();
      let applied = 0;
      const database = await openDatabase(config.database, { migrate: true, onMigrated: (count) => (applied = count) });
      await database.close();
      process.stdout.write(applied === 0 ? "migrations: already up to date\n" : `migrations: applied ${applied}\n`);
    },
  },
  worker: workerCommand,
  reconcile: reconcileCommand,
  outbox: outboxCommand,
  admin: adminCommand,
  audit: auditCommand,
};

function mainUsage(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  const lines = Object.entries(commands).map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`);
  return `Usage: kartograph-iam <command> [options]\n\nCommands:\n${lines.join("\n")}\n\nRun kartograph-iam <command> --help for a command's options.`;
}

async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(`${mainUsage()}\n`);
    return;
  }
  const command = commands[name];
  if (command === undefined) throw new UsageError(`unknown command "${name}"\n${mainUsage()}`);
  if (wantsHelp(rest)) {
    process.stdout.write(`${command.usage}\n`);
    return;
  }
  await command.run(rest);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const debug = (process.env["LOG_LEVEL"] ?? "").toLowerCase() === "debug";
  if (error instanceof Error && EXPECTED_START_ERRORS.has(error.name) && !debug) {
    process.stderr.write(`kartograph-iam: ${error.message}\n`);
  } else {
    process.stderr.write(`kartograph-iam: ${error instanceof Error ? (debug ? error.stack : error.message) : String(error)}\n`);
  }
  process.exit(1);
});
