/**
 * Run as its own process by the start-up bench: opens PGlite (default settings) in the directory
 * given, runs one query, then reports on stdout the milliseconds since the process started and
 * its resident memory after a short settle. This is "PGlite's own open time" as a user pays it:
 * Node start, module load, WASM compile, initdb when the directory is new.
 */
import { PGlite } from "@electric-sql/pglite";

const directory = process.argv[2];
if (directory === undefined) throw new Error("usage: pglite-open-child <directory>");
const client = await PGlite.create(directory);
await client.query("SELECT 1");
const openMs = performance.now();
await new Promise((resolve) => setTimeout(resolve, 2_000));
const rssMiB = process.memoryUsage().rss / 1024 / 1024;
await client.close();
process.stdout.write(JSON.stringify({ openMs, rssMiB }));
