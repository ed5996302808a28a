/**
 * `kartograph-iam audit export` streams a tenant's (or every tenant's) audit events as JSON lines,
 * oldest first, in constant memory; `kartograph-iam audit verify` recomputes each tenant's hash
 * chain and names the first event that was altered, removed, inserted or moved.
 */
import { SYSTEM_AUDIT_SCOPE, auditEventBody } from "../platform/audit/audit-event.js";
import { chainedTenants, exportAuditEvents } from "../platform/audit/audit-store.js";
import { verifyChain } from "../platform/audit/audit-verifier.js";
import { loadConfig } from "../platform/config/config.js";
import { STORABLE_YEARS, isStorableTime } from "../platform/database/storable-time.js";
import { normaliseUlid } from "../shared-kernel/ids.js";
import { UsageError, parseCommandArgs, type Command } from "./command.js";
import { withDatabase } from "./outbox-commands.js";

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/i;
const PROGRESS_EVERY_MS = 1_000;

const USAGE =
  "Usage: kartograph-iam audit export [--tenant ID] [--since TIME] [--until TIME]\n" +
  "       kartograph-iam audit verify [--tenant ID]\n\n" +
  "export writes one JSON object per line to stdout, oldest first (every tenant's, deleted tenants\n" +
  "included, unless --tenant names one); TIME is ISO-8601, e.g. 2026-12-01 or 2026-12-01T08:00:00Z.\n" +
  "verify recomputes each tenant's hash chain; exit status 2 when a chain is broken.\n" +
  "--tenant system names the events of no tenant (users provisioned and their profile changes).\n" +
  "With the embedded database, stop the service first (PGlite is single-process).";

function timeOption(name: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const parsed = ISO_DATE_TIME.test(value) ? new Date(value) : null;
  if (parsed === null || Number.isNaN(parsed.getTime())) throw new UsageError(`--${name} is not an ISO-8601 date or time: ${value}\n${USAGE}`);
  if (!isStorableTime(parsed)) throw new UsageError(`--${name} must lie in ${STORABLE_YEARS}: ${value}\n${USAGE}`);
  return parsed;
}

function tenantOption(value: string | undefined): string | null {
  if (value === undefined) return null;
  if (value === SYSTEM_AUDIT_SCOPE) return value;
  const tenant = normaliseUlid(value);
  if (tenant === null) throw new UsageError(`--tenant is not a tenant id (a ULID) nor "system": ${value}\n${USAGE}`);
  return tenant;
}

/** Resolves once stdout can take more: the export never holds more than one batch in memory. */
function write(line: string): Promise<void> | null {
  return process.stdout.write(line) ? null : new Promise((resolve) => process.stdout.once("drain", resolve));
}

async function exportEvents(tenantId: string | null, since: Date | undefined, until: Date | undefined): Promise<void> {
  const config = loadConfig();
  const progress = process.stderr.isTTY === true;
  await withDatabase(config, async (database) => {
    let count = 0;
    let reportedAt = Date.now();
    const query = { tenantId, ...(since ? { since } : {}), ...(until ? { until } : {}) };
    for await (const event of exportAuditEvents(database.db, query)) {
      await write(`${JSON.stringify(auditEventBody(event))}\n`);
      count += 1;
      if (progress && Date.now() - reportedAt >= PROGRESS_EVERY_MS) {
        reportedAt = Date.now();
        process.stderr.write(`\raudit export: ${count} events`);
      }
    }
    if (progress) process.stderr.write(`\raudit export: ${count} events, done\n`);
  });
}

async function verifyEvents(tenantId: string | null): Promise<void> {
  const config = loadConfig();
  const broken = await withDatabase(config, async (database) => {
    let failures = 0;
    const tenants = tenantId === null ? await chainedTenants(database.db) : [tenantId];
    if (tenants.length === 0) process.stdout.write("no sealed audit events yet\n");
    for (const tenant of tenants) {
      const report = await verifyChain(database.db, tenant);
      if (report.break === null) {
        const range = report.firstPosition === null ? "no sealed events" : `positions ${report.firstPosition}-${report.lastPosition}`;
        process.stdout.write(`ok      tenant ${tenant}: ${report.verified} events verified (${range})\n`);
      } else {
        failures += 1;
        process.stdout.write(`BROKEN  tenant ${tenant}: ${report.break.problem} at position ${report.break.position}: ${report.break.detail} (${report.verified} verified before it)\n`);
      }
    }
    return failures;
  });
  if (broken > 0) process.exitCode = 2;
}

export const auditCommand: Command = {
  summary: "The audit log: `audit export` streams JSON lines, `audit verify` checks the hash chains",
  usage: USAGE,
  async run(args) {
    const { values, positionals } = parseCommandArgs(
      args,
      USAGE,
      { tenant: { type: "string" }, since: { type: "string" }, until: { type: "string" } },
      true,
    );
    const [action, ...rest] = positionals;
    if (rest.length > 0) throw new UsageError(`unexpected argument: ${rest.join(" ")}\n${USAGE}`);
    const tenant = tenantOption(values.tenant);
    if (action === "export") return exportEvents(tenant, timeOption("since", values.since), timeOption("until", values.until));
    if (action === "verify") {
      if (values.since !== undefined || values.until !== undefined) throw new UsageError(`audit verify checks whole chains: no --since/--until\n${USAGE}`);
      return verifyEvents(tenant);
    }
    throw new UsageError(`audit needs "export" or "verify"\n${USAGE}`);
  },
};
