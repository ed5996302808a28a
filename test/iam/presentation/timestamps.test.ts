import { describe, expect, it } from "vitest";
import { isoTimestamp } from "../../../src/iam/presentation/timestamps.js";

describe("isoTimestamp", () => {
  it("writes six fractional digits when there are any, none otherwise, and Z", () => {
    expect(isoTimestamp(new Date("2025-01-02T03:04:05.123Z"))).toBe("2025-01-02T03:04:05.123000Z");
    expect(isoTimestamp(new Date("2025-01-02T03:04:05.000Z"))).toBe("2025-01-02T03:04:05Z");
    expect(isoTimestamp(new Date("2025-01-02T03:04:05.001Z"))).toBe("2025-01-02T03:04:05.001000Z");
  });
});
