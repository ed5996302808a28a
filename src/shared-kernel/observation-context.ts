/**
 * Who and what a log line is about: request id, user, tenant and free-form extras. Immutable; only
 * fields that are set are emitted. Probes merge it *under* their own fields so it can never
 * override or collide with what a probe reports (the reference crashed on exactly that collision).
 */
export interface ObservationFields {
  readonly requestId?: string | null;
  readonly userId?: string | null;
  readonly tenantId?: string | null;
}

export class ObservationContext {
  static readonly empty = new ObservationContext({}, {});

  private constructor(
    private readonly fields: ObservationFields,
    private readonly extras: Readonly<Record<string, unknown>>,
  ) {
    Object.freeze(this);
  }

  static of(fields: ObservationFields, extras: Record<string, unknown> = {}): ObservationContext {
    return new ObservationContext({ ...fields }, Object.freeze({ ...extras }));
  }

  get requestId(): string | null {
    return this.fields.requestId ?? null;
  }

  get userId(): string | null {
    return this.fields.userId ?? null;
  }

  get tenantId(): string | null {
    return this.fields.tenantId ?? null;
  }

  with(fields: ObservationFields): ObservationContext {
    return new ObservationContext({ ...this.fields, ...fields }, this.extras);
  }

  withExtra(extras: Record<string, unknown>): ObservationContext {
    return new ObservationContext(this.fields, Object.freeze({ ...this.extras, ...extras }));
  }

  /** Non-null fields in snake_case, extras included. */
  asRecord(): Record<string, unknown> {
    const record: Record<string, unknown> = { ...this.extras };
    if (this.fields.requestId != null) record["request_id"] = this.fields.requestId;
    if (this.fields.userId != null) record["user_id"] = this.fields.userId;
    if (this.fields.tenantId != null) record["tenant_id"] = this.fields.tenantId;
    return record;
  }

  /**
   * The record for one probe event: the context first, then the probe's own fields, which always
   * win. A context key the probe also reports is kept under `context.<key>` rather than lost.
   */
  mergeInto(own: Record<string, unknown>): Record<string, unknown> {
    const merged: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(this.asRecord())) {
      merged[key in own && own[key] !== value ? `context.${key}` : key] = value;
    }
    return { ...merged, ...own };
  }
}
