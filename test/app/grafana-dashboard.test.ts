/**
 * docs/grafana-dashboard.json against what the service exports: every metric a panel queries must
 * appear on a real /metrics scrape (after a write and a read, so the labelled series exist), so
 * that a renamed metric cannot leave a panel silently empty.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createService } from "../../src/app.js";
import { DevelopmentIssuer } from "../../src/iam/infrastructure/identity/development-issuer.js";
import { loadConfig } from "../../src/platform/config/config.js";
import { createLogger } from "../../src/platform/logging/logger.js";
import { PACKAGE_ROOT } from "../support/built-cli.js";
import { createTestDatabase } from "../support/test-database.js";

interface Dashboard {
  panels: { title: string; targets: { expr: string }[] }[];
}

/** Metric names in a PromQL expression: identifiers followed by a selector or a range. */
function metricsOf(expr: string): string[] {
  const functions = new Set(["sum", "rate", "max", "histogram_quantile", "by", "le"]);
  return [...expr.matchAll(/\b([a-z_][a-z0-9_]*)\s*\{/g)].map((m) => m[1]!).filter((name) => !functions.has(name));
}

describe("the example Grafana dashboard", () => {
  it("queries only metrics the service exports", async () => {
    const dashboard = JSON.parse(readFileSync(join(PACKAGE_ROOT, "docs", "grafana-dashboard.json"), "utf8")) as Dashboard;
    const queried = new Set(dashboard.panels.flatMap((panel) => panel.targets.flatMap((target) => metricsOf(target.expr))));
    expect(queried.size).toBeGreaterThan(10);

    const dataDir = mkdtempSync(join(tmpdir(), "kiam-grafana-"));
    const database = await createTestDatabase("pglite");
    const config = loadConfig({ KARTOGRAPH_DATA_DIR: dataDir, LOG_LEVEL: "silent", KARTOGRAPH_IAM_SINGLE_TENANT_MODE: "false" });
    const service = await createService(config, createLogger("silent", { pretty: false }), { database: database.handle });
    try {
      const issuer = await DevelopmentIssuer.open(dataDir);
      const token = await issuer.sign({ subject: "ada", username: "ada", audience: config.oidc.audience, ttlSeconds: 600 });
      const headers = { authorization: `Bearer ${token}` };
      expect((await service.server.inject({ method: "POST", url: "/iam/tenants", headers, payload: { name: "acme" } })).statusCode).toBe(201);
      expect((await service.server.inject({ method: "GET", url: "/iam/tenants", headers })).statusCode).toBe(200);
      const scrape = (await service.server.inject("/metrics")).body;
      const exported = new Set([...scrape.matchAll(/^# TYPE (\S+) (\w+)$/gm)].flatMap(([, name, type]) =>
        type === "histogram" ? [`${name}_bucket`, `${name}_count`, `${name}_sum`] : [name!],
      ));
      expect([...queried].filter((name) => !exported.has(name))).toEqual([]);
    } finally {
      await service.close();
      await database.dispose();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
