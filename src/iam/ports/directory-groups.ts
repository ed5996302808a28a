/**
 * The groups a tenant's directory (SCIM 2.0) created and owns: their members are the directory's
 * to set (as Group.setDirectoryMembers does), and they can hold workspace roles like any group.
 */
import type { AttributeKind, DirectoryFilter } from "./directory-filter.js";

export interface DirectoryGroupMember {
  readonly id: string;
  readonly username: string;
}

export interface DirectoryGroup {
  readonly id: string;
  readonly name: string;
  readonly externalId: string | null;
  /** By user id; empty when the read asked for no members. */
  readonly members: readonly DirectoryGroupMember[];
  readonly createdAt: Date;
  readonly lastModified: Date;
}

/** The attributes a filter of groups may name, and how each compares. */
export const GROUP_FILTER_ATTRIBUTES = {
  id: "exact",
  displayName: "text",
  externalId: "exact",
  "members.value": "exact",
  "meta.created": "time",
  "meta.lastModified": "time",
} as const satisfies Record<string, AttributeKind>;
export type FilterableGroupAttribute = keyof typeof GROUP_FILTER_ATTRIBUTES;
export type GroupFilter = DirectoryFilter<FilterableGroupAttribute>;

export interface DirectoryGroupPage {
  readonly totalResults: number;
  readonly groups: readonly DirectoryGroup[];
}

export interface DirectoryGroups {
  /** The directory's group of this tenant, or null. */
  find(tenantId: string, groupId: string, withMembers: boolean): Promise<DirectoryGroup | null>;
  /** Ordered by id; `startIndex` counts from 1. */
  list(tenantId: string, filter: GroupFilter | null, startIndex: number, count: number, withMembers: boolean): Promise<DirectoryGroupPage>;
  setExternalId(groupId: string, externalId: string | null): Promise<void>;
}
