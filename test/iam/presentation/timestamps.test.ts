import { describe, expect, it } from "vitest";
import { isoTimestamp } from "../../../src/iam/presentation/timestamps.js";

describe("isoTimestamp", () => {
  it("writes six fractional digits when there are any, none otherwise, and Z", () => {
    expect(isoTimestamp(new Date("2025-01-02T03:04:05.123Z"))).toBe("2025-01-02T03:04:05.123000Z");
    expect(isoTimestamp(new Date("2025-01-02T03:04:05.000Z"))).toBe("2025-01-02T03:04:05Z");
    expect(isoTimestamp(new Date("2025-01-02T03:04:05.001Z"))).toBe("2025-01-02T03:04:05.001000Z");
  });

  it("gives each instant its own text, also when the same instant repeats", () => {
    const instants = ["2025-01-02T03:04:05.120Z", "2025-01-02T03:04:05.120Z", "2025-01-02T03:04:06.000Z", "2025-01-02T03:04:05.120Z"];
    expect(instants.map((text) => isoTimestamp(new Date(text)))).toEqual([
      "2025-01-02T03:04:05.120000Z",
      "2025-01-02T03:04:05.120000Z",
      "2025-01-02T03:04:06Z",
      "2025-01-02T03:04:05.120000Z",
    ]);
  });

  it("keeps the fraction right for years written with more or fewer than four digits", () => {
    expect(isoTimestamp(new Date("+012345-01-02T03:04:05.120Z"))).toBe("+012345-01-02T03:04:05.120000Z");
    expect(isoTimestamp(new Date("0001-01-01T00:00:00.001Z"))).toBe("0001-01-01T00:00:00.001000Z");
  });
});
