/**
 * A bare Fastify server with one route that reads one workspace row by primary key, run as its own
 * process by the workspace benchmarks: the yardstick for GET /iam/workspaces/{id}. Raw drivers
 * (PGlite, or a pg pool the size of the service's default), no ORM, no authentication.
 *
 * BASELINE_PGLITE_DIR: a PGlite data directory; BASELINE_DB_URL: a PostgreSQL database.
 */
import { PGlite } from "@electric-sql/pglite";
import Fastify from "fastify";
import pg from "pg";

const SELECT = "SELECT id, tenant_id, name, parent_workspace_id, is_root, created_at, updated_at FROM workspaces WHERE id = $1";

interface Row {
  id: string;
  tenant_id: string;
  name: string;
  parent_workspace_id: string | null;
  is_root: boolean;
  created_at: Date;
  updated_at: Date;
}

async function openQuery(): Promise<{ select(id: string): Promise<Row | undefined>; close(): Promise<void> }> {
  const url = process.env["BASELINE_DB_URL"];
  if (url) {
    const pool = new pg.Pool({ connectionString: url, max: 10 });
    return { select: async (id) => (await pool.query<Row>(SELECT, [id])).rows[0], close: () => pool.end() };
  }
  const dir = process.env["BASELINE_PGLITE_DIR"];
  if (!dir) throw new Error("set BASELINE_PGLITE_DIR or BASELINE_DB_URL");
  const client = await PGlite.create(dir);
  return { select: async (id) => (await client.query<Row>(SELECT, [id])).rows[0], close: () => client.close() };
}

const database = await openQuery();
const app = Fastify();
app.get("/health", async () => ({ status: "ok" }));
app.get<{ Params: { id: string } }>("/workspaces/:id", async (request, reply) => {
  const row = await database.select(request.params.id);
  if (row === undefined) return reply.code(404).send({ detail: "not found" });
  return row;
});
await app.listen({ host: "127.0.0.1", port: Number(process.env["PORT"]) });
process.on("SIGTERM", () => {
  void app
    .close()
    .then(() => database.close())
    .then(() => process.exit(0));
});
