import type { Queryable } from "../../src/platform/database/database.js";

const STATEMENT_METHODS = new Set(["select", "selectDistinct", "insert", "update", "delete", "execute"]);

/**
 * Wraps a database or transaction and counts the statements started through it, so that a test
 * can prove a repository needs a fixed number of queries however many rows it returns.
 */
export function countingQueryable<T extends Queryable>(db: T): { db: T; count: () => number; reset: () => void } {
  let statements = 0;
  const proxy = new Proxy(db, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof property === "string" && STATEMENT_METHODS.has(property) && typeof value === "function") {
        return (...args: unknown[]) => {
          statements++;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return value;
    },
  });
  return {
    db: proxy,
    count: () => statements,
    reset: () => {
      statements = 0;
    },
  };
}
