import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { queryRows } from "../../../src/platform/database/database.js";
import { openPglite } from "../../../src/platform/database/pglite-database.js";

async function sharedBuffers(cacheMb?: number): Promise<string> {
  const handle = await openPglite(null, cacheMb === undefined ? {} : { cacheMb });
  try {
    const rows = await queryRows<{ shared_buffers: string }>(handle.db, sql`SHOW shared_buffers`);
    return rows[0]?.shared_buffers ?? "";
  } finally {
    await handle.close();
  }
}

describe("PGlite page cache (KARTOGRAPH_PGLITE_CACHE_MB)", () => {
  it("is 32 MB by default rather than PostgreSQL's 128 MB, which would be most of an idle service's memory", async () => {
    expect(await sharedBuffers()).toBe("32MB");
  });

  it("takes the configured size", async () => {
    expect(await sharedBuffers(64)).toBe("64MB");
  });
});
