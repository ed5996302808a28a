import { describe, expect, it } from "vitest";
import { credentialOf, tenantHeaderOf } from "../../../../src/iam/presentation/auth/credential-of.js";

describe("credentialOf", () => {
  it("takes a Bearer token in any case of the scheme, even an empty one", () => {
    expect(credentialOf({ authorization: "Bearer abc.def.ghi" })).toEqual({ kind: "bearer", token: "abc.def.ghi" });
    expect(credentialOf({ authorization: "bearer   abc" })).toEqual({ kind: "bearer", token: "abc" });
    expect(credentialOf({ authorization: "BEARER" })).toEqual({ kind: "bearer", token: "" });
    expect(credentialOf({ authorization: "Bearer " })).toEqual({ kind: "bearer", token: "" });
  });

  it("prefers the token over an API key, and treats other schemes as no token", () => {
    expect(credentialOf({ authorization: "Bearer t", "x-api-key": "k" })).toEqual({ kind: "bearer", token: "t" });
    expect(credentialOf({ authorization: "Basic dTpw", "x-api-key": "k" })).toEqual({ kind: "api_key", secret: "k" });
    expect(credentialOf({ authorization: "Bearerxyz" })).toEqual({ kind: "none" });
    expect(credentialOf({})).toEqual({ kind: "none" });
  });

  it("joins repeated API key headers, which then fail the format check", () => {
    expect(credentialOf({ "x-api-key": ["a", "b"] })).toEqual({ kind: "api_key", secret: "a,b" });
  });

  it("reads X-Tenant-ID raw, undefined when absent", () => {
    expect(tenantHeaderOf({ "x-tenant-id": " 01abc " })).toBe(" 01abc ");
    expect(tenantHeaderOf({})).toBeUndefined();
  });
});
