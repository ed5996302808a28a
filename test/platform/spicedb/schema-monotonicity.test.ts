import { describe, expect, it } from "vitest";
import { isMonotonicSchema } from "../../../src/platform/spicedb/schema-monotonicity.js";
import { permissionSchema } from "../../../src/platform/spicedb/spicedb-engine.js";

const base = `definition user {}
definition doc {
    relation owner: user
    relation viewer: user
    relation banned: user
`;

describe("isMonotonicSchema", () => {
  it("holds for the service's permission schema, which the decision cache relies on", () => {
    expect(isMonotonicSchema(permissionSchema())).toBe(true);
  });

  it("accepts unions and arrows, and ignores operators inside comments", () => {
    expect(isMonotonicSchema(`${base}    // viewers - banned, & more
    /* a - b */
    permission view = owner + viewer + parent->view + parent.any(view)
}`)).toBe(true);
  });

  it.each([
    ["exclusion", "permission view = viewer - banned"],
    ["intersection", "permission view = viewer & owner"],
    ["an all() arrow", "permission view = parent.all(view)"],
    ["a caveated relation", "relation guest: user with ip_allowed"],
    ["an expiring relation", "relation guest: user with expiration"],
  ])("rejects %s, under which adding a relationship can take a permission away", (_, line) => {
    expect(isMonotonicSchema(`${base}    ${line}\n}`)).toBe(false);
  });

  it("rejects caveat definitions", () => {
    expect(isMonotonicSchema(`caveat ip_allowed(ip ipaddress) { ip.in_cidr('10.0.0.0/8') }\n${base}}`)).toBe(false);
  });
});
