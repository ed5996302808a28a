import { describe, expect, it } from "vitest";
import { IssuedTokens } from "../../../src/platform/spicedb/issued-tokens.js";

const fresh = (token: string) => ({ kind: "atLeastAsFresh", token }) as const;

describe("IssuedTokens: what an in-process SpiceDB is asked for", () => {
  it("keeps a token the engine issued, and asks full consistency for one it never did", () => {
    const issued = new IssuedTokens();
    issued.remember("ours");
    expect(issued.consistencyFor(fresh("ours"))).toEqual(fresh("ours"));
    expect(issued.consistencyFor(fresh("from-the-last-run"))).toEqual({ kind: "full" });
  });

  it("leaves full consistency and minimize-latency as they are, and ignores a write with no token", () => {
    const issued = new IssuedTokens();
    issued.remember(null);
    expect(issued.consistencyFor({ kind: "full" })).toEqual({ kind: "full" });
    expect(issued.consistencyFor({ kind: "minimizeLatency" })).toEqual({ kind: "minimizeLatency" });
  });

  it("forgets the oldest tokens past its capacity (then asks full consistency: never staler)", () => {
    const issued = new IssuedTokens(2);
    for (const token of ["t1", "t2", "t3"]) issued.remember(token);
    expect(issued.consistencyFor(fresh("t1"))).toEqual({ kind: "full" });
    expect(issued.consistencyFor(fresh("t2"))).toEqual(fresh("t2"));
    expect(issued.consistencyFor(fresh("t3"))).toEqual(fresh("t3"));
  });
});
