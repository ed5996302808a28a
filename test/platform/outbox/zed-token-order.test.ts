/**
 * The ZedToken stored with the authorization revision is what every process's checks ask SpiceDB
 * to be at least as fresh as. Two tenants' drains run side by side on a PostgreSQL server; one
 * that wrote to SpiceDB first but commits second must not leave its older token over the other's
 * newer one, or checks everywhere would miss the other's change.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { queryRows } from "../../../src/platform/database/database.js";
import { AuthzRevisionTracker, readAuthzRevision } from "../../../src/platform/outbox/authz-revision.js";
import type { HandledWrite, NewOutboxEntry, OutboxEntry, OutboxHandler } from "../../../src/platform/outbox/outbox-entry.js";
import { OutboxDispatcher } from "../../../src/platform/outbox/outbox-dispatcher.js";
import { appendOutboxEntries } from "../../../src/platform/outbox/outbox-store.js";
import { RecordingOutboxProbe } from "../../support/recording-outbox.js";
import { HAS_POSTGRES_SERVER, createTestDatabase, type TestDatabase } from "../../support/test-database.js";

const EARLY = "01J0000000000000000000EARL";
const LATE = "01J0000000000000000000LATE";

/** Reports the token its test gives per tenant as written; holds one tenant's call at its start. */
class ScriptedHandler implements OutboxHandler {
  readonly name = "scripted";
  readonly eventTypes = ["Counted"];
  tokens = new Map<string, string>();
  private gate: Promise<void> | null = null;
  private heldTenant: string | null = null;
  private entered: (() => void) | null = null;

  hold(tenantId: string): { entered: Promise<void>; release: () => void } {
    let release!: () => void;
    this.gate = new Promise((resolve) => (release = resolve));
    this.heldTenant = tenantId;
    const entered = new Promise<void>((resolve) => (this.entered = resolve));
    return { entered, release };
  }

  async handle(entries: readonly OutboxEntry[]): Promise<HandledWrite> {
    const tenantId = entries[0]!.tenantId;
    if (tenantId === this.heldTenant && this.gate !== null) {
      this.entered?.();
      await this.gate;
    }
    return { token: this.tokens.get(tenantId) ?? null, revokes: false };
  }
}

const entry = (tenantId: string): NewOutboxEntry => ({
  tenantId,
  aggregateType: "test",
  aggregateId: "a",
  eventType: "Counted",
  payload: {},
  occurredAt: new Date(),
});

describe.skipIf(!HAS_POSTGRES_SERVER)("the ZedToken stored with the revision, across drains side by side", () => {
  let database: TestDatabase;
  let handler: ScriptedHandler;
  let dispatcher: OutboxDispatcher;

  const append = (tenantId: string) => database.handle.db.transaction((tx) => appendOutboxEntries(tx, [entry(tenantId)]));
  const storedToken = async () => (await readAuthzRevision(database.handle.db)).zedToken;

  beforeAll(async () => {
    database = await createTestDatabase("postgres");
  });
  afterAll(() => database?.dispose());
  beforeEach(async () => {
    await queryRows(database.handle.db, sql`DELETE FROM outbox`);
    handler = new ScriptedHandler();
    dispatcher = new OutboxDispatcher(database.handle.db, [handler], new AuthzRevisionTracker(), new RecordingOutboxProbe(), {
      batchSize: 10,
      maxRetries: 3,
      backoff: { baseMs: 5, maxMs: 50 },
    });
  });

  it("is cleared, not set back, by a drain that commits after another that wrote later", async () => {
    handler.tokens.set(EARLY, "written-first").set(LATE, "written-second");
    await append(EARLY);
    await append(LATE);
    const held = handler.hold(EARLY);
    const early = dispatcher.drain(EARLY, { wait: true }); // claims, then stops before committing
    await held.entered;
    await dispatcher.drain(LATE, { wait: true });
    expect(await storedToken()).toBe("written-second");
    held.release();
    await early;
    // "written-first" would let checks miss the later write: full consistency until the next clean bump.
    expect(await storedToken()).toBeNull();

    handler.tokens.set(LATE, "written-third");
    await append(LATE);
    await dispatcher.drain(LATE, { wait: true });
    expect(await storedToken()).toBe("written-third");
  });

  it("is kept by a drain that wrote nothing to SpiceDB, and replaced by one that wrote with nobody in between", async () => {
    handler.tokens.set(LATE, "only-writer");
    await append(LATE);
    await dispatcher.drain(LATE, { wait: true });
    handler.tokens.delete(EARLY);
    await append(EARLY);
    await dispatcher.drain(EARLY, { wait: true });
    expect(await storedToken()).toBe("only-writer");
  });
});
