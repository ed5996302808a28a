/**
 * The PostgreSQL server named by KARTOGRAPH_TEST_DB_URL, as its superuser: tests create and drop
 * their own databases on it (theirs and SpiceDB servers' datastores).
 */
import pg from "pg";

export const TEST_SERVER_URL = checkedServerUrl(process.env["KARTOGRAPH_TEST_DB_URL"] || null);

/**
 * Refuses anything but one postgres:// URL. pg reads a string that is not an absolute URL as
 * relative to "postgres://base", so a URL captured with stray output before it (a script that
 * printed "Removed stale pid file." to stdout) failed every suite with "getaddrinfo ENOTFOUND base".
 */
function checkedServerUrl(value: string | null): string | null {
  if (value === null) return null;
  if (!/^postgres(ql)?:\/\/\S+$/.test(value)) {
    throw new Error(`KARTOGRAPH_TEST_DB_URL must be one postgresql:// URL, got ${JSON.stringify(value.slice(0, 200))}`);
  }
  return value;
}

function serverUrl(): string {
  if (TEST_SERVER_URL === null) throw new Error("KARTOGRAPH_TEST_DB_URL is not set");
  return TEST_SERVER_URL;
}

/** The URL of database `name` on the test server, with the same credentials. */
export function testServerDatabaseUrl(name: string): string {
  const url = new URL(serverUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

/** Runs statements, one after the other, in the database KARTOGRAPH_TEST_DB_URL names. */
export async function onTestServer(...statements: string[]): Promise<pg.QueryResultRow[]> {
  const client = new pg.Client({ connectionString: serverUrl() });
  await client.connect();
  try {
    let rows: pg.QueryResultRow[] = [];
    for (const statement of statements) rows = (await client.query(statement)).rows;
    return rows;
  } finally {
    await client.end();
  }
}
