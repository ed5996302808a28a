/**
 * Single-tenant mode: the default tenant that header-less callers land in. Implemented by the
 * tenant service (it owns the Tenant and Workspace aggregates); used by start-up and by the
 * tenant-context hook.
 */
import type { TenantRole } from "../domain/roles.js";

export interface DefaultTenantAccess {
  /**
   * Makes sure the default tenant and its root workspace exist (safe when several instances start
   * together) and returns the tenant id. Called on every header-less request: an implementation
   * remembers the id once ensured (the tenant service does; a failure is retried by the next call).
   */
  ensureDefaultTenant(): Promise<string>;
  /**
   * Adds the user to the default tenant unless they already belong to it: as admin (and admin of
   * the root workspace) when `asAdmin` (or, where configured, when the tenant has no members
   * yet), else as member. Idempotent and safe under concurrency. Returns the role granted, or
   * null when the user already belonged to the tenant.
   */
  join(userId: string, asAdmin: boolean): Promise<TenantRole | null>;
}
