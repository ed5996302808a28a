/**
 * `kartograph-iam admin ...`: the operator's token-free commands. They run the service's own
 * composition (createService, without listening or a worker), so every rule, the outbox sync to
 * SpiceDB and the audit log (actor: system) apply as for an API call; and like any second opener
 * they refuse to run beside a `serve` that holds the embedded database or the embedded SpiceDB.
 */
import { pino } from "pino";
import { createService, type Service } from "../app.js";
import { TENANT_ROLES, type TenantRole } from "../iam/domain/roles.js";
import { loadConfig } from "../platform/config/config.js";
import { createLogger } from "../platform/logging/logger.js";
import { normaliseUlid } from "../shared-kernel/ids.js";
import { UsageError, parseCommandArgs, type Command } from "./command.js";

const USAGE = `Usage: kartograph-iam admin tenants [--json]
       kartograph-iam admin tenant create NAME [--json]
       kartograph-iam admin member add TENANT_ID USER --role admin|member [--json]
       kartograph-iam admin users [--search TEXT] [--json]

Operator commands that need no token. USER is a user id or a username (users appear at their
first sign-in). A new tenant has no members: add its first admin with "member add". Changes are
recorded in the audit log with the system as the actor. With the embedded database, stop the
service first (PGlite is single-process); on PostgreSQL with the embedded SpiceDB too (a running
serve would not learn of the change).`;

/** Aligned columns for people; JSON lines with --json. */
function print(rows: readonly Record<string, unknown>[], json: boolean, empty: string): void {
  if (json) {
    for (const row of rows) process.stdout.write(`${JSON.stringify(row)}\n`);
    return;
  }
  if (rows.length === 0) {
    process.stdout.write(`${empty}\n`);
    return;
  }
  const columns = Object.keys(rows[0]!);
  const text = (value: unknown) => (value === null || value === undefined ? "-" : String(value));
  const widths = columns.map((column) => Math.max(column.length, ...rows.map((row) => text(row[column]).length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd();
  process.stdout.write(`${line(columns.map((column) => column.toUpperCase()))}\n`);
  for (const row of rows) process.stdout.write(`${line(columns.map((column) => text(row[column])))}\n`);
}

async function withService<T>(work: (service: Service) => Promise<T>): Promise<T> {
  const loaded = loadConfig();
  // No worker: this process applies its own changes (the unit of work does) and exits.
  const config = { ...loaded, outbox: { ...loaded.outbox, enabled: false } };
  const service = await createService(config, createLogger("error", { destination: pino.destination(2) }));
  try {
    return await work(service);
  } finally {
    await service.close();
  }
}

function roleOf(value: string | undefined): TenantRole {
  if (value === undefined) throw new UsageError(`member add needs --role admin or --role member\n${USAGE}`);
  if (!(TENANT_ROLES as readonly string[]).includes(value)) throw new UsageError(`--role must be admin or member (got "${value}")\n${USAGE}`);
  return value as TenantRole;
}

export const adminCommand: Command = {
  summary: "Operator commands without a token: tenants, tenant create, member add, users",
  usage: USAGE,
  async run(args) {
    const { values, positionals } = parseCommandArgs(
      args,
      USAGE,
      { json: { type: "boolean" }, role: { type: "string" }, search: { type: "string" } },
      true,
    );
    const json = values.json === true;
    const [what, ...rest] = positionals;
    const extra = (expected: number) => {
      if (rest.length !== expected) throw new UsageError(`wrong number of arguments for "admin ${[what, ...rest.slice(0, 1)].join(" ")}"\n${USAGE}`);
    };
    if (what === "tenants") {
      extra(0);
      const tenants = await withService((service) => service.operator.listTenants());
      return print(tenants.map((t) => ({ id: t.id, name: t.name, members: t.members })), json, "no tenants");
    }
    if (what === "users") {
      extra(0);
      const users = await withService((service) => service.operator.listUsers(values.search ?? null));
      return print(users.map((u) => ({ id: u.id, username: u.username, name: u.name, email: u.email })), json, "no users");
    }
    if (what === "tenant" && rest[0] === "create") {
      const name = rest.slice(1).join(" ");
      if (rest.length < 2 || name.trim() === "") throw new UsageError(`tenant create needs a NAME\n${USAGE}`);
      const created = await withService(async (service) => {
        if (service.config.iam.singleTenantMode) {
          throw new UsageError("tenant create needs multi-tenant mode (KARTOGRAPH_IAM_SINGLE_TENANT_MODE=false); single-tenant mode has only the default tenant");
        }
        return service.operator.createTenant(name);
      });
      return print([{ id: created.id, name: created.name }], json, "");
    }
    if (what === "member" && rest[0] === "add") {
      if (rest.length !== 3) throw new UsageError(`member add needs TENANT_ID and USER\n${USAGE}`);
      const tenantId = normaliseUlid(rest[1]!);
      if (tenantId === null) throw new UsageError(`TENANT_ID is not a tenant id (a ULID; see "admin tenants"): ${rest[1]}\n${USAGE}`);
      const role = roleOf(values.role);
      const { user, change } = await withService((service) => service.operator.setTenantRole(tenantId, rest[2]!, role));
      return print([{ tenant_id: tenantId, user_id: user.id, username: user.username, role, change }], json, "");
    }
    throw new UsageError(`admin needs "tenants", "tenant create", "member add" or "users"\n${USAGE}`);
  },
};
