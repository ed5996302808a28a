import { describe, expect, it } from "vitest";
import { formatWalPosition, parseWalPosition } from "../../../src/platform/database/replica/wal-position.js";

describe("WAL positions", () => {
  it("orders positions across the 32-bit boundary, as PostgreSQL does", () => {
    expect(parseWalPosition("0/FFFFFFFF") < parseWalPosition("1/0")).toBe(true);
    expect(parseWalPosition("3/57C00000") - parseWalPosition("3/57BFFF80")).toBe(128n);
    expect(formatWalPosition(parseWalPosition("16/b374d848"))).toBe("16/B374D848");
  });

  it("refuses what is not a position", () => {
    for (const bad of ["", "16", "16/", "/1", "1/2/3", "G/0", "123456789/0"]) expect(() => parseWalPosition(bad)).toThrow(/not a WAL position/);
  });
});
