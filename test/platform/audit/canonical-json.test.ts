/**
 * Every sealed audit event's hash covers the canonical JSON of the event, so its text must stay
 * exactly what it was when the chains already stored were sealed: these pin it (RFC 8785's rules
 * as they apply to audit events), so that a faster or tidier rewrite cannot change it unnoticed.
 */
import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../../src/platform/audit/canonical-json.js";
import { GENESIS_HASH, chainHash } from "../../../src/platform/audit/audit-chain.js";

describe("canonical JSON", () => {
  it("sorts keys by UTF-16 code units, drops undefined members, and writes no whitespace", () => {
    expect(canonicalJson({ b: 1, a: [true, null, undefined], c: { z: "x", y: undefined }, "\u20ac": 1, "\ud83d\ude00": 2, é: 3 })).toBe(
      '{"a":[true,null,null],"b":1,"c":{"z":"x"},"é":3,"\u20ac":1,"\ud83d\ude00":2}',
    );
    expect(canonicalJson({ "10": 1, "2": 2, B: 3, a: 4 })).toBe('{"10":1,"2":2,"B":3,"a":4}');
    expect(canonicalJson({ at: new Date("2026-12-07T02:00:00.123Z"), n: 1e21, m: 0.000001, s: "line\nbreak" })).toBe(
      '{"at":"2026-12-07T02:00:00.123Z","m":0.000001,"n":1e+21,"s":"line\\nbreak"}',
    );
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(TypeError);
  });

  it("seals an event to the hash an independent SHA-256 of its canonical text gives (Python's json and hashlib)", () => {
    const event = {
      id: "01JAUD00000000000000000001",
      tenantId: "01JT0000000000000000000001",
      occurredAt: new Date("2026-12-07T02:00:00.123Z"),
      action: "workspace.member_added",
      actor: { type: "user" as const, id: "alice", username: "alice" },
      target: { type: "workspace", id: "01JW0000000000000000000001", name: "Research" },
      changes: { member: { type: "user", id: "bob" }, role: { before: null, after: "editor" } },
      context: { request_id: "req-1", ip: "203.0.113.7", user_agent: "curl/8" },
    };
    // sha256("0" * 64 + "\n" + json.dumps({position: 1, id, tenant_id, occurred_at, action, actor, target,
    // changes, context}, sort_keys=True, separators=(",", ":"))), computed outside this code base.
    expect(chainHash(GENESIS_HASH, event, 1)).toBe("24583d21e58eb66e6df608163c46fdf9a3c13c6c9c3016d046cae6aa72dd34b0");
  });
});
