/**
 * A transaction whose last statement is sent with its COMMIT: on a pipelining connection (see
 * pipelined-client.ts) that is one round trip instead of two, on every unit of work and outbox drain.
 *
 * `work` issues its last statement without awaiting it and hands back the promise, as `last`. The
 * statement must be issued before `work` returns, so that it is written ahead of the COMMIT.
 * If it fails, PostgreSQL ends the transaction with a ROLLBACK in place of the COMMIT and this
 * rejects with the statement's own error: nothing of the transaction is kept.
 */
import type { AppDatabase, AppTransaction } from "./database.js";

export async function transactionEndingWith<T, L>(
  db: AppDatabase,
  work: (tx: AppTransaction) => Promise<{ value: T; last: Promise<L> }>,
): Promise<{ value: T; last: L }> {
  // Filled in from inside the transaction's callback (TypeScript cannot follow plain variables there).
  const seen: { last?: Promise<L>; error?: unknown } = {};
  try {
    const value = await db.transaction(async (tx) => {
      const done = await work(tx).catch((error: unknown) => {
        seen.error = error;
        throw error;
      });
      seen.last = done.last;
      // Awaited below, once the transaction has ended; until then its failure is nobody's.
      done.last.catch(() => undefined);
      return done.value;
    });
    return { value, last: await (seen.last as Promise<L>) };
  } catch (error) {
    // When the last statement failed, its error is the cause and the one worth reporting.
    if (seen.last !== undefined) await seen.last;
    // When the connection died, the ROLLBACK fails too, and Drizzle reports that failure instead
    // of the one that began it ("Failed query: rollback"): report the first.
    throw "error" in seen ? seen.error : error;
  }
}
