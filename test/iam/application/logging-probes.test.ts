import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { ProbeLogger } from "../../../src/iam/application/probe-logger.js";
import { PinoApiKeyServiceProbe } from "../../../src/iam/application/api-key-service-probe.js";
import { PinoTenantServiceProbe } from "../../../src/iam/application/tenant-service-probe.js";
import { PinoWorkspaceServiceProbe } from "../../../src/iam/application/workspace-service-probe.js";
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
    new PinoWorkspaceServiceProbe(logger).withContext(context).workspaceCreated({
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
    const probe = new PinoTenantServiceProbe(logger);
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
    const probe = new PinoWorkspaceServiceProbe(logger).withContext(ObservationContext.of({ requestId: "r1" }));
    probe.workspaceRetrieved({ workspaceId: "W1" });
    probe.workspaceAccessDenied({ workspaceId: "W2", permission: "manage" });
    expect(written.map((line) => [line.event, line.workspace_id])).toEqual([["workspace_access_denied", "W2"]]);
  });

  it("write API key facts with ids only, the caller from the context", () => {
    const logger = new CapturingLogger();
    const probe = new PinoApiKeyServiceProbe(logger).withContext(ObservationContext.of({ userId: "ada", tenantId: "T" }));
    probe.apiKeyCreated({ apiKeyId: "K1" });
    probe.apiKeyRevocationDenied({ apiKeyId: "K2" });
    expect(logger.lines.map((l) => [l.level, l.record])).toEqual([
      ["info", { event: "api_key_created", api_key_id: "K1", user_id: "ada", tenant_id: "T" }],
      ["warn", { event: "api_key_revocation_denied", api_key_id: "K2", user_id: "ada", tenant_id: "T" }],
    ]);
  });
});
