import { describe, expect, it } from "vitest";
import { PinoGroupServiceProbe } from "../../../src/iam/application/group-service-probe.js";
import type { ProbeLogger } from "../../../src/iam/application/probe-logger.js";
import { ObservationContext } from "../../../src/shared-kernel/observation-context.js";

/** A logger that keeps its lines. */
function capturingLogger(): ProbeLogger & { lines: { level: string; fields: object; message: string }[] } {
  const lines: { level: string; fields: object; message: string }[] = [];
  return {
    lines,
    info: (fields, message) => lines.push({ level: "info", fields, message }),
    warn: (fields, message) => lines.push({ level: "warn", fields, message }),
  };
}

describe("PinoGroupServiceProbe", () => {
  it("logs each fact with the observation context underneath its own fields", () => {
    const logger = capturingLogger();
    const probe = new PinoGroupServiceProbe(logger).withContext(ObservationContext.of({ requestId: "r-1", userId: "alice", tenantId: "T" }));
    probe.memberAdded({ groupId: "G", memberUserId: "bob", role: "member" });
    expect(logger.lines).toEqual([
      {
        level: "info",
        message: "group member added",
        fields: {
          request_id: "r-1",
          user_id: "alice",
          tenant_id: "T",
          event: "group_member_added",
          group_id: "G",
          member_user_id: "bob",
          role: "member",
        },
      },
    ]);
  });

  it("never lets the context override what the probe reports", () => {
    const logger = capturingLogger();
    const context = ObservationContext.of({ userId: "alice" }, { group_id: "from-context", event: "spoofed" });
    new PinoGroupServiceProbe(logger, context).groupDeleted({ groupId: "G", workspaceGrantsRemoved: 3 });
    expect(logger.lines[0]?.fields).toMatchObject({
      event: "group_deleted",
      group_id: "G",
      workspace_grants_removed: 3,
      "context.group_id": "from-context",
      "context.event": "spoofed",
    });
  });

  it("reports refusals as warnings", () => {
    const logger = capturingLogger();
    const probe = new PinoGroupServiceProbe(logger);
    probe.groupAccessDenied({ groupId: "G", permission: "manage" });
    probe.lastAdminProtected({ groupId: "G", operation: "remove_member", reason: "Cannot remove the last admin." });
    probe.groupsListed({ count: 2 });
    expect(logger.lines.map((l) => l.level)).toEqual(["warn", "warn", "info"]);
  });
});
