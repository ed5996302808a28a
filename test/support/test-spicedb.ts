import { startSpiceDb, type SpiceDbEngine } from "../../src/platform/spicedb/spicedb-engine.js";

/** A fresh in-process SpiceDB with the permission schema written. */
export function startTestSpiceDb(): Promise<SpiceDbEngine> {
  return startSpiceDb({ endpoint: null, presharedKey: "", useTls: false, certPath: null });
}
