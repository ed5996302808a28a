/**
 * Serialized group lists of recently listed tenants, each with the group-list version it shows.
 * Serializing a large tenant's groups (100,000 members is 4 MiB of JSON) costs more than the rest
 * of the request; while the version stands, the same bytes are the right answer. Bounded by total
 * size, least recently used first out.
 */
export const DEFAULT_MAX_CHARS = 32 * 1024 * 1024;

interface Kept {
  readonly version: number;
  readonly body: string;
}

export class GroupListBodies {
  private readonly kept = new Map<string, Kept>();
  private chars = 0;

  constructor(private readonly maxChars = DEFAULT_MAX_CHARS) {}

  /** The version of the body kept for the tenant, if any. */
  versionOf(tenantId: string): number | null {
    return this.kept.get(tenantId)?.version ?? null;
  }

  /** The body kept for the tenant at exactly this version. */
  get(tenantId: string, version: number): string | undefined {
    const kept = this.kept.get(tenantId);
    if (kept === undefined || kept.version !== version) return undefined;
    this.kept.delete(tenantId);
    this.kept.set(tenantId, kept);
    return kept.body;
  }

  put(tenantId: string, version: number, body: string): void {
    this.forget(tenantId);
    if (body.length > this.maxChars) return;
    while (this.chars + body.length > this.maxChars) {
      const oldest = this.kept.keys().next();
      if (oldest.done === true) break;
      this.forget(oldest.value);
    }
    this.kept.set(tenantId, { version, body });
    this.chars += body.length;
  }

  private forget(tenantId: string): void {
    const kept = this.kept.get(tenantId);
    if (kept === undefined) return;
    this.kept.delete(tenantId);
    this.chars -= kept.body.length;
  }
}
