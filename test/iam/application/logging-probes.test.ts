import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { ProbeLogger } from "../../../src/iam/application/probe-logger.js";
import { LoggingTenantServiceProbe } from "../../../src/iam/application/tenant-service-probe.js";
import { LoggingWorkspaceServiceProbe } from "../../../src/iam/application/workspace-service-probe.js";
import { ObservationContext } from "../../../src/shared-kernel/observation-context.js";

class CapturingLogger implements ProbeLogger {
  readonly lines: { level: string; record: Record<string, unknown>; message: string }[] = [];
  info(record: Record<string, unknown>, message: string): void {
    this.lines.push({ level: "info", record, message });
  }
  warn(record: Record<string, unknown>, message: string): void {
    this.lines.push({ level: "warn", record, message });
  }
  error(record: Record<string, unknown>, message: string): void {
    this.lines.push({ level: "error", record, message });
  }
}

describe("logging probes", () => {
  it("write the event's own fields over the context, keeping a colliding context value aside", () => {
    const logger = new CapturingLogger();
    const context = ObservationContext.of({ requestId: "r1", userId: "ada", tenantId: "T-CONTEXT" });
    new LoggingWorkspaceServiceProbe(logger).withContext(context).workspaceCreated({
      workspaceId: "W1",
      tenantId: "T-EVENT",
      name: "docs",
      parentWorkspaceId: "W0",
      isRoot: false,
      creatorId: "ada",
    });
    expect(logger.lines).toEqual([
      {
        level: "info",
        message: "workspace created",
        record: {
          event: "workspace_created",
          request_id: "r1",
          user_id: "ada",
          "context.tenant_id": "T-CONTEXT",
          workspace_id: "W1",
          tenant_id: "T-EVENT",
          name: "docs",
          parent_workspace_id: "W0",
          is_root: false,
          creator_id: "ada",
        },
      },
    ]);
  });

  it("report failures and denials as warnings", () => {
    const logger = new CapturingLogger();
    const probe = new LoggingTenantServiceProbe(logger);
    probe.tenantAccessDenied({ tenantId: "T", permission: "administrate" });
    probe.tenantDeleted({ tenantId: "T", workspaces: 3, groups: 1, apiKeys: 2 });
    expect(logger.lines.map((l) => [l.level, l.record["event"]])).toEqual([
      ["warn", "tenant_access_denied"],
      ["info", "tenant_deleted"],
    ]);
    expect(logger.lines[1]?.record).toMatchObject({ api_keys: 2, workspaces: 3 });
  });

  it("at LOG_LEVEL=warn write warnings and drop info events", () => {
    const written: { event: string; workspace_id: string }[] = [];
    const logger = pino({ level: "warn" }, { write: (line: string) => written.push(JSON.parse(line) as { event: string; workspace_id: string }) });
    const probe = new LoggingWorkspaceServiceProbe(logger).withContext(ObservationContext.of({ requestId: "r1" }));
    probe.workspaceRetrieved({ workspaceId: "W1" });
    probe.workspaceAccessDenied({ workspaceId: "W2", permission: "manage" });
    expect(written.map((line) => [line.event, line.workspace_id])).toEqual([["workspace_access_denied", "W2"]]);
  });
});
