import { readFileSync, readdirSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { describe, expect, it } from "vitest";
import { scanImports } from "./import-scanner.js";
import { checkLayers, layerOf } from "./layer-checker.js";

const ROOT = join(import.meta.dirname, "..", "..");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

function repositoryFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const path of sourceFiles(join(ROOT, "src"))) {
    files.set(relative(ROOT, path).split(sep).join("/"), readFileSync(path, "utf8"));
  }
  return files;
}

describe("layer rules (DESIGN §4)", () => {
  it("hold for every file under src/", () => {
    const files = repositoryFiles();
    expect(files.size).toBeGreaterThan(10);
    const violations = checkLayers(files).map((v) => `${v.file}:${v.line} imports "${v.specifier}": ${v.reason}`);
    expect(violations).toEqual([]);
  });

  it("see the imports of real files (the scan is not vacuous)", () => {
    const files = repositoryFiles();
    const appImports = scanImports(files.get("src/app.ts") ?? "").map((i) => i.specifier);
    expect(appImports).toContain("./platform/http/http-server.js");
    expect(layerOf("src/iam/domain/events.ts")).toBe("iam/domain");
    expect(layerOf("src/iam/iam-module.ts")).toBe("iam/module");
    expect(layerOf("src/cli.ts")).toBe("composition");
    expect(layerOf("test/x.ts")).toBeNull();
  });
});

describe("the layer checker", () => {
  const check = (files: Record<string, string>) =>
    checkLayers(new Map(Object.entries(files))).map((v) => `${v.file}:${v.line} ${v.specifier}`);

  it("flags a domain file that imports infrastructure, platform or a driver", () => {
    expect(
      check({
        "src/iam/domain/tenant.ts": [
          'import { ulid } from "../../shared-kernel/ids.js";',
          'import type { Queryable } from "../../platform/database/database.js";',
          'import { createRepositories } from "../infrastructure/repositories.js";',
          'import pg from "pg";',
          'import { Roles } from "./roles.js";',
        ].join("\n"),
      }),
    ).toEqual([
      "src/iam/domain/tenant.ts:2 ../../platform/database/database.js",
      "src/iam/domain/tenant.ts:3 ../infrastructure/repositories.js",
      "src/iam/domain/tenant.ts:4 pg",
    ]);
  });

  it("flags application importing infrastructure or presentation, and allows domain, ports and shared kernel", () => {
    expect(
      check({
        "src/iam/application/tenant-service.ts": [
          'import type { UnitOfWork } from "../ports/unit-of-work.js";',
          'import { NotFoundError } from "../domain/errors.js";',
          'import type { AuthorizationPort } from "../../shared-kernel/authorization/authorization-port.js";',
          'export { x } from "../infrastructure/repositories.js";',
          'const lazy = await import("../presentation/request-context.js");',
          'import type { Logger } from "../../platform/logging/logger.js";',
        ].join("\n"),
      }),
    ).toEqual([
      "src/iam/application/tenant-service.ts:4 ../infrastructure/repositories.js",
      "src/iam/application/tenant-service.ts:5 ../presentation/request-context.js",
      "src/iam/application/tenant-service.ts:6 ../../platform/logging/logger.js",
    ]);
  });

  it("flags infrastructure importing application or presentation", () => {
    expect(
      check({
        "src/iam/infrastructure/tenant-repository.ts": [
          'import type { Queryable } from "../../platform/database/database.js";',
          'import type { Caller } from "../application/caller.js";',
          'import "../presentation/error-mapping.js";',
        ].join("\n"),
      }),
    ).toEqual([
      "src/iam/infrastructure/tenant-repository.ts:2 ../application/caller.js",
      "src/iam/infrastructure/tenant-repository.ts:3 ../presentation/error-mapping.js",
    ]);
  });

  it("flags ports importing application, shared kernel importing iam or platform, platform importing iam", () => {
    expect(
      check({
        "src/iam/ports/x.ts": 'import type { Caller } from "../application/caller.js";',
        "src/shared-kernel/x.ts": 'import type { IamEvent } from "../iam/domain/events.js";\nimport { loadConfig } from "../platform/config/config.js";',
        "src/platform/http/x.ts": 'import { callerOf } from "../../iam/presentation/request-context.js";',
      }),
    ).toEqual([
      "src/iam/ports/x.ts:1 ../application/caller.js",
      "src/shared-kernel/x.ts:1 ../iam/domain/events.js",
      "src/shared-kernel/x.ts:2 ../platform/config/config.js",
      "src/platform/http/x.ts:1 ../../iam/presentation/request-context.js",
    ]);
  });

  it("ignores imports written in comments, strings, templates and regular expressions", () => {
    expect(
      check({
        "src/iam/domain/quiet.ts": [
          '// import { x } from "../infrastructure/a.js";',
          '/* import "../infrastructure/b.js"; */',
          'const text = "import x from \'../infrastructure/c.js\'";',
          'const template = `import ${"x"} from "../infrastructure/d.js"`;',
          "const quote = /\"/;",
          'export { Roles } from "./roles.js";',
          'import { a } from "../infrastructure/e.js";',
        ].join("\n"),
      }),
    ).toEqual(["src/iam/domain/quiet.ts:7 ../infrastructure/e.js"]);
  });
});

describe("the import scanner", () => {
  it("finds every import form with its line", () => {
    const source = [
      'import a from "a";',
      'import type { B } from "b";',
      'import * as c from "c";',
      'import "d";',
      'export * from "e";',
      "export {",
      "  f,",
      '} from "f";',
      'const g = await import("g");',
      'import h = require("h");',
      "const notAnImport = from.import;",
      "const meta = import.meta.url;",
    ].join("\n");
    expect(scanImports(source)).toEqual([
      { specifier: "a", line: 1 },
      { specifier: "b", line: 2 },
      { specifier: "c", line: 3 },
      { specifier: "d", line: 4 },
      { specifier: "e", line: 5 },
      { specifier: "f", line: 8 },
      { specifier: "g", line: 9 },
      { specifier: "h", line: 10 },
    ]);
  });
});
