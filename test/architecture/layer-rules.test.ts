import { describe, expect, it } from "vitest";
import { checkFiles, checkLayers, layerOf } from "./layer-checker.js";

describe("layer rules (DESIGN §4)", () => {
  it("hold for every file under src/", async () => {
    const violations = (await checkLayers()).map((v) => `${v.file} imports ${v.to}: ${v.rule}`);
    expect(violations).toEqual([]);
  }, 60_000);

  it("name each file's layer by its longest prefix", () => {
    expect(layerOf("src/iam/domain/events.ts")).toBe("iam/domain");
    expect(layerOf("src/iam/iam-module.ts")).toBe("iam/module");
    expect(layerOf("src/cli.ts")).toBe("composition");
    expect(layerOf("test/x.ts")).toBeNull();
  });
});

describe("the layer check", () => {
  it("flags a domain file that imports infrastructure, platform or a driver, type-only imports too", async () => {
    expect(
      await checkFiles({
        "src/iam/domain/tenant.ts": [
          'import { ulid } from "../../shared-kernel/ids.js";',
          'import type { Queryable } from "../../platform/database/database.js";',
          'import { createRepositories } from "../infrastructure/repositories.js";',
          'import pg from "pg";',
          'import { readFileSync } from "node:fs";',
          'import { Roles } from "./roles.js";',
          "export const all = [ulid, createRepositories, pg, readFileSync, Roles] as unknown as Queryable;",
        ].join("\n"),
      }),
    ).toEqual([
      "src/iam/domain/tenant.ts -> fs",
      "src/iam/domain/tenant.ts -> package pg",
      "src/iam/domain/tenant.ts -> src/iam/infrastructure/repositories.ts",
      "src/iam/domain/tenant.ts -> src/platform/database/database.ts",
    ]);
  }, 60_000);

  it("flags application importing infrastructure, presentation or platform, and allows domain, ports and shared kernel", async () => {
    expect(
      await checkFiles({
        "src/iam/application/tenant-service.ts": [
          'import type { UnitOfWork } from "../ports/unit-of-work.js";',
          'import { NotFoundError } from "../domain/errors.js";',
          'import type { AuthorizationPort } from "../../shared-kernel/authorization/authorization-port.js";',
          'export { x } from "../infrastructure/repositories.js";',
          'const lazy = await import("../presentation/request-context.js");',
          'import type { Logger } from "../../platform/logging/logger.js";',
          "export const all = [NotFoundError, lazy] as unknown as [UnitOfWork, AuthorizationPort, Logger];",
        ].join("\n"),
      }),
    ).toEqual([
      "src/iam/application/tenant-service.ts -> src/iam/infrastructure/repositories.ts",
      "src/iam/application/tenant-service.ts -> src/iam/presentation/request-context.ts",
      "src/iam/application/tenant-service.ts -> src/platform/logging/logger.ts",
    ]);
  }, 60_000);

  it("flags infrastructure importing application or presentation, ports importing application, shared kernel importing iam or platform, platform importing iam", async () => {
    expect(
      await checkFiles({
        "src/iam/infrastructure/tenant-repository.ts": [
          'import type { Queryable } from "../../platform/database/database.js";',
          'import type { Caller } from "../application/caller.js";',
          'import "../presentation/error-mapping.js";',
          "export type All = [Queryable, Caller];",
        ].join("\n"),
        "src/iam/ports/x.ts": 'import type { Caller } from "../application/caller.js";\nexport type X = Caller;',
        "src/shared-kernel/x.ts": 'import type { IamEvent } from "../iam/domain/events.js";\nimport { loadConfig } from "../platform/config/config.js";\nexport const x = loadConfig as unknown as IamEvent;',
        "src/platform/http/x.ts": 'import { callerOf } from "../../iam/presentation/request-context.js";\nexport const x = callerOf;',
      }),
    ).toEqual([
      "src/iam/infrastructure/tenant-repository.ts -> src/iam/application/caller.ts",
      "src/iam/infrastructure/tenant-repository.ts -> src/iam/presentation/error-mapping.ts",
      "src/iam/ports/x.ts -> src/iam/application/caller.ts",
      "src/platform/http/x.ts -> src/iam/presentation/request-context.ts",
      "src/shared-kernel/x.ts -> src/iam/domain/events.ts",
      "src/shared-kernel/x.ts -> src/platform/config/config.ts",
    ]);
  }, 60_000);

  it("ignores imports written in comments and strings", async () => {
    expect(
      await checkFiles({
        "src/iam/domain/quiet.ts": [
          '// import { x } from "../infrastructure/a.js";',
          '/* import "../infrastructure/b.js"; */',
          'export const text = "import x from \'../infrastructure/c.js\'";',
          'import { a } from "../infrastructure/e.js";',
          "export const all = [a];",
        ].join("\n"),
      }),
    ).toEqual(["src/iam/domain/quiet.ts -> src/iam/infrastructure/e.ts"]);
  }, 60_000);
});
