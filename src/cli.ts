#!/usr/bin/env node
/**
 * kartograph-iam command line: serve | migrate (more commands arrive with later features).
 * Start-up failures print one line naming the cause; the stack only with LOG_LEVEL=debug.
 */
import { parseArgs } from "node:util";
import { createService } from "./app.js";
import { ConfigError, loadConfig, type AppConfig } from "./platform/config/config.js";
import { openDatabase } from "./platform/database/open-database.js";
import { createLogger } from "./platform/logging/logger.js";
import { DevelopmentIssuer } from "./iam/infrastructure/identity/development-issuer.js";

interface Command {
  readonly summary: string;
  readonly usage: string;
  run(args: string[]): Promise<void>;
}

const EXPECTED_START_ERRORS = new Set([
  "ConfigError",
  "DatabaseStartError",
  "DataDirectoryError",
  "SpiceDbStartError",
  "UsageError",
]);

class UsageError extends Error {
  override name = "UsageError";
}

function wantsHelp(args: string[]): boolean {
  return args.includes("--help") || args.includes("-h");
}

function parse(args: string[], usage: string) {
  try {
    return parseArgs({ args, options: {}, allowPositionals: false, strict: true });
  } catch (error) {
    throw new UsageError(`${error instanceof Error ? error.message : String(error)}\n${usage}`);
  }
}

/** "3600", "90s", "30m", "8h" or "7d" → seconds. */
function parseDuration(value: string, usage: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(value.trim());
  const seconds = match ? Number(match[1]) * { "": 1, s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as "" | "s" | "m" | "h" | "d"] : NaN;
  if (!Number.isSafeInteger(seconds) || seconds < 1 || seconds > 366 * 86_400) {
    throw new UsageError(`--ttl must be a duration such as 3600, 90m, 8h or 7d (at most 366d), got "${value}"\n${usage}`);
  }
  return seconds;
}

const commands: Record<string, Command> = {
  serve: {
    summary: "Run the HTTP API (and the outbox worker unless KARTOGRAPH_OUTBOX_ENABLED=false)",
    usage: "Usage: kartograph-iam serve\n\nApplies pending migrations, then serves on HOST:PORT (default 127.0.0.1:8000).\nConfiguration comes from environment variables; see README.md.",
    async run(args) {
      parse(args, this.usage);
      const config = loadConfig();
      const logger = createLogger(config.logLevel);
      const service = await createService(config, logger, { migrate: true });
      try {
        await service.server.listen({ host: config.host, port: config.port });
      } catch (error) {
        await service.close();
        if ((error as { code?: string }).code === "EADDRINUSE") {
          throw new ConfigError("PORT", `must be a free port; ${config.host}:${config.port} is in use`, String(config.port));
        }
        throw error;
      }
      logger.info(
        { database: service.database.kind, spicedb: service.spicedb.mode, address: `http://${config.host}:${config.port}` },
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
  token: {
    summary: "Print an access token from the development issuer (when no OIDC provider is configured)",
    usage:
      "Usage: kartograph-iam token <username> [--name NAME] [--email EMAIL] [--ttl 8h] [--subject SUB]\n\n" +
      "Signs an access token with the development issuer's key in KARTOGRAPH_DATA_DIR/dev-issuer/\n" +
      "(created on first use; the service trusts it when KARTOGRAPH_OIDC_ISSUER_URL is unset).\n" +
      "The subject (user id) defaults to the username; --ttl defaults to 8h. Refused in production.\n\n" +
      "  curl -H \"Authorization: Bearer $(kartograph-iam token alice)\" http://127.0.0.1:8000/iam/tenants",
    async run(args) {
      let parsed;
      try {
        parsed = parseArgs({
          args,
          allowPositionals: true,
          strict: true,
          options: {
            name: { type: "string" },
            email: { type: "string" },
            ttl: { type: "string" },
            subject: { type: "string" },
          },
        });
      } catch (error) {
        throw new UsageError(`${error instanceof Error ? error.message : String(error)}\n${this.usage}`);
      }
      const [username, ...extra] = parsed.positionals;
      if (username === undefined || username.trim() === "" || extra.length > 0) {
        throw new UsageError(`give exactly one username\n${this.usage}`);
      }
      const ttlSeconds = parseDuration(parsed.values.ttl ?? "8h", this.usage);
      const config = loadConfig();
      if (config.oidc.issuerUrl !== null) {
        throw new UsageError(
          `KARTOGRAPH_OIDC_ISSUER_URL is set (${config.oidc.issuerUrl}): the service trusts that provider, not the development issuer; get a token from it`,
        );
      }
      const issuer = await DevelopmentIssuer.open(config.database.dataDir);
      const token = await issuer.sign({
        subject: parsed.values.subject ?? username,
        username,
        name: parsed.values.name ?? null,
        email: parsed.values.email ?? null,
        audience: config.oidc.audience,
        ttlSeconds,
      });
      process.stdout.write(`${token}\n`);
    },
  },
  migrate: {
    summary: "Apply pending database migrations and exit",
    usage: "Usage: kartograph-iam migrate\n\nApplies pending migrations to the configured database (PGlite in KARTOGRAPH_DATA_DIR,\nor the server named by KARTOGRAPH_DB_URL / KARTOGRAPH_DB_HOST) under an advisory lock.",
    async run(args) {
      parse(args, this.usage);
      const config: AppConfig = loadConfig();
      const database = await openDatabase(config.database, { migrate: true });
      await database.close();
      process.stdout.write("migrations applied\n");
    },
  },
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
