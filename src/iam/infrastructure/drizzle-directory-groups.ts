/** The directory's groups of a tenant, with their members (id and username) in one statement per read. */
import { sql, type SQL } from "drizzle-orm";
import { queryRows, type Queryable } from "../../platform/database/database.js";
import {
  GROUP_FILTER_ATTRIBUTES,
  type DirectoryGroup,
  type DirectoryGroupMember,
  type DirectoryGroupPage,
  type DirectoryGroups,
  type FilterableGroupAttribute,
  type GroupFilter,
} from "../ports/directory-groups.js";
import { filterSql, type FilterColumn } from "./directory-filter-sql.js";
import { dateOf, directoryPage } from "./directory-page.js";

interface Row {
  readonly id: string;
  readonly name: string;
  readonly external_id: string | null;
  readonly members: DirectoryGroupMember[] | string | null;
  readonly created_at: Date | string;
  readonly last_modified: Date | string;
}

const LAST_MODIFIED_SQL = sql.raw(`greatest(g.updated_at, coalesce((SELECT max(gm.created_at) FROM group_members gm WHERE gm.group_id = g.id), g.updated_at))`);

const GROUP_COLUMNS: Record<FilterableGroupAttribute, FilterColumn> = {
  id: { kind: GROUP_FILTER_ATTRIBUTES.id, expression: sql.raw("g.id") },
  displayName: { kind: GROUP_FILTER_ATTRIBUTES.displayName, expression: sql.raw("g.name") },
  externalId: { kind: GROUP_FILTER_ATTRIBUTES.externalId, expression: sql.raw("g.external_id") },
  "members.value": {
    kind: GROUP_FILTER_ATTRIBUTES["members.value"],
    anyValue: (matches) => sql`EXISTS (SELECT 1 FROM group_members gm WHERE gm.group_id = g.id AND ${matches(sql.raw("gm.user_id"))})`,
  },
  "meta.created": { kind: GROUP_FILTER_ATTRIBUTES["meta.created"], expression: sql.raw("g.created_at") },
  "meta.lastModified": { kind: GROUP_FILTER_ATTRIBUTES["meta.lastModified"], expression: LAST_MODIFIED_SQL },
};


function toGroup(row: Row): DirectoryGroup {
  const members = typeof row.members === "string" ? (JSON.parse(row.members) as DirectoryGroupMember[]) : (row.members ?? []);
  return {
    id: row.id,
    name: row.name,
    externalId: row.external_id,
    members,
    createdAt: dateOf(row.created_at),
    lastModified: dateOf(row.last_modified),
  };
}

function directoryGroups(tenantId: string, condition: SQL, withMembers: boolean): SQL {
  const members = withMembers
    ? sql.raw(`(SELECT coalesce(json_agg(json_build_object('id', u.id, 'username', u.username) ORDER BY u.id), '[]'::json)
               FROM group_members gm JOIN users u ON u.id = gm.user_id WHERE gm.group_id = g.id)`)
    : sql.raw("NULL::json");
  return sql`SELECT g.id, g.name, g.external_id, ${members} AS members, g.created_at, ${LAST_MODIFIED_SQL} AS last_modified
             FROM groups g WHERE g.tenant_id = ${tenantId} AND g.directory_managed AND ${condition}`;
}

export class DrizzleDirectoryGroups implements DirectoryGroups {
  constructor(private readonly db: Queryable) {}

  async find(tenantId: string, groupId: string, withMembers: boolean): Promise<DirectoryGroup | null> {
    const rows = await queryRows<Row>(this.db, directoryGroups(tenantId, sql`g.id = ${groupId}`, withMembers));
    return rows[0] === undefined ? null : toGroup(rows[0]);
  }

  async list(tenantId: string, filter: GroupFilter | null, startIndex: number, count: number, withMembers: boolean): Promise<DirectoryGroupPage> {
    const condition = filter === null ? sql.raw("true") : filterSql(filter, GROUP_COLUMNS);
    const page = await directoryPage<Row>(this.db, (forCount) => directoryGroups(tenantId, condition, withMembers && !forCount), startIndex, count);
    return { totalResults: page.total, groups: page.rows.map(toGroup) };
  }

  async setExternalId(groupId: string, externalId: string | null): Promise<void> {
    await queryRows(this.db, sql`UPDATE groups SET external_id = ${externalId} WHERE id = ${groupId} AND external_id IS DISTINCT FROM ${externalId}`);
  }
}
