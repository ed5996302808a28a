/**
 * Access paths in one statement per question: direct roles, roles through groups (with the
 * member's role in the group) and the tenant's admins, with usernames, whatever their number.
 */
import { sql, type SQL } from "drizzle-orm";
import { queryRows, type Queryable } from "../../platform/database/database.js";
import type { AccessPath, AccessPaths, UserAccessPath } from "../ports/access-paths.js";

interface PathRow {
  readonly user_id: string;
  readonly username: string | null;
  readonly kind: AccessPath["kind"];
  readonly role: string | null;
  readonly group_id: string | null;
  readonly group_name: string | null;
  readonly group_role: string | null;
}

function pathOf(row: PathRow): UserAccessPath {
  const path: AccessPath =
    row.kind === "direct"
      ? { kind: "direct", role: row.role ?? "" }
      : row.kind === "group"
        ? { kind: "group", groupId: row.group_id ?? "", groupName: row.group_name ?? "", role: row.role ?? "", groupRole: row.group_role ?? "" }
        : { kind: "tenant_admin" };
  return { userId: row.user_id, username: row.username, path };
}

/**
 * The rows as one JSON array in one row: thousands of rows of seven columns cost far more to hand
 * over one by one (PGlite parses each in JavaScript) than one document. Keeps the query's order.
 */
async function pathRows(db: Queryable, query: SQL): Promise<PathRow[]> {
  const rows = await queryRows<{ paths: PathRow[] | string }>(
    db,
    sql`SELECT coalesce(json_agg(to_json(q.*) ORDER BY q.ordinal), '[]'::json) AS paths
        FROM (SELECT ordered.*, row_number() OVER () AS ordinal FROM (${query}) ordered) q`,
  );
  const paths = rows[0]?.paths ?? [];
  return typeof paths === "string" ? (JSON.parse(paths) as PathRow[]) : paths;
}

export class DrizzleAccessPaths implements AccessPaths {
  constructor(private readonly db: Queryable) {}

  async toWorkspace(tenantId: string, workspaceId: string, userId?: string) {
    // Narrowed to one user (explain): each branch reads only their rows.
    const only = (column: string) => (userId === undefined ? sql`` : sql` AND ${sql.raw(column)} = ${userId}`);
    const found = await queryRows<{ is_root: boolean }>(
      this.db,
      sql`SELECT is_root FROM workspaces WHERE id = ${workspaceId} AND tenant_id = ${tenantId}`,
    );
    const workspace = found[0];
    if (workspace === undefined) return null;
    const rows = await pathRows(
      this.db,
      sql`SELECT p.*, u.username FROM (
            SELECT member_id AS user_id, 'direct' AS kind, role, NULL AS group_id, NULL AS group_name, NULL AS group_role
            FROM workspace_members WHERE workspace_id = ${workspaceId} AND member_type = 'user'${only("member_id")}
            UNION ALL
            SELECT gm.user_id, 'group', wm.role, g.id, g.name, gm.role
            FROM workspace_members wm
            JOIN groups g ON g.id = wm.member_id AND g.tenant_id = ${tenantId}
            JOIN group_members gm ON gm.group_id = g.id
            WHERE wm.workspace_id = ${workspaceId} AND wm.member_type = 'group'${only("gm.user_id")}
            UNION ALL
            SELECT user_id, 'tenant_admin', NULL, NULL, NULL, NULL
            FROM tenant_members WHERE tenant_id = ${tenantId} AND role = 'admin'${only("user_id")}
          ) p LEFT JOIN users u ON u.id = p.user_id
          ORDER BY p.user_id COLLATE "C", CASE p.kind WHEN 'direct' THEN 0 WHEN 'group' THEN 1 ELSE 2 END, p.group_name COLLATE "C", p.group_id`,
    );
    return { isRoot: workspace.is_root, paths: rows.map(pathOf) };
  }

  async toGroup(tenantId: string, groupId: string, userId?: string) {
    const only = (column: string) => (userId === undefined ? sql`` : sql` AND ${sql.raw(column)} = ${userId}`);
    const found = await queryRows<{ id: string }>(this.db, sql`SELECT id FROM groups WHERE id = ${groupId} AND tenant_id = ${tenantId}`);
    if (found.length === 0) return null;
    const rows = await pathRows(
      this.db,
      sql`SELECT p.*, u.username FROM (
            SELECT user_id, 'direct' AS kind, role, NULL AS group_id, NULL AS group_name, NULL AS group_role
            FROM group_members WHERE group_id = ${groupId}${only("user_id")}
            UNION ALL
            SELECT user_id, 'tenant_admin', NULL, NULL, NULL, NULL
            FROM tenant_members WHERE tenant_id = ${tenantId} AND role = 'admin'${only("user_id")}
          ) p LEFT JOIN users u ON u.id = p.user_id
          ORDER BY p.user_id COLLATE "C", CASE p.kind WHEN 'direct' THEN 0 ELSE 2 END`,
    );
    return rows.map(pathOf);
  }
}
