import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { base64url, importJWK, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthenticationError, IdentityProviderUnavailableError } from "../../../../src/iam/domain/authentication-errors.js";
import { DiscoveredKeySet } from "../../../../src/iam/infrastructure/identity/discovered-key-set.js";
import { JwtVerifier, MAX_TOKEN_LENGTH } from "../../../../src/iam/infrastructure/identity/jwt-verifier.js";
import { startTestIdentity, type TestIdentity } from "../../../support/test-identity.js";

/** The verdict on a token: its claims' subject, or the rejection message. */
async function verdict(verifier: JwtVerifier, token: string): Promise<string> {
  try {
    const claims = await verifier.verify(token);
    return `ok:${String(claims["sub"])}`;
  } catch (error) {
    if (error instanceof AuthenticationError) return error.message;
    if (error instanceof IdentityProviderUnavailableError) return `unavailable:${error.message}`;
    throw error;
  }
}

function encodeSegment(value: unknown): string {
  return base64url.encode(JSON.stringify(value));
}

describe("JWT verification against a JWKS served over HTTP", () => {
  let identity: TestIdentity;
  let keys: DiscoveredKeySet;
  let verifier: JwtVerifier;
  let clock = 0;

  const newVerifier = (options: Partial<{ issuer: string; audience: string }> = {}) => {
    keys = new DiscoveredKeySet({ issuerUrl: identity.issuerUrl, refreshCooldownMs: 30_000, now: () => clock });
    // Verified tokens are not remembered here: these tests are about the key set.
    return new JwtVerifier({
      issuer: options.issuer ?? identity.issuerUrl,
      audience: options.audience ?? identity.audience,
      keys,
      verifiedCacheSize: 0,
    });
  };

  beforeAll(async () => {
    identity = await startTestIdentity();
    verifier = newVerifier();
  });
  afterAll(async () => {
    await identity?.close();
  });

  it("accepts a valid token and returns its claims", async () => {
    const claims = await verifier.verify(await identity.tokenFor("alice", { email: "a@example.com" }));
    expect(claims).toMatchObject({ sub: "alice", preferred_username: "alice", email: "a@example.com" });
  });

  it("accepts an ES256 token", async () => {
    const es = await startTestIdentity({ algorithm: "ES256" });
    try {
      const esVerifier = new JwtVerifier({
        issuer: es.issuerUrl,
        audience: es.audience,
        keys: new DiscoveredKeySet({ issuerUrl: es.issuerUrl }),
      });
      expect(await verdict(esVerifier, await es.tokenFor("eve"))).toBe("ok:eve");
    } finally {
      await es.close();
    }
  });

  it("accepts an audience list that contains the expected audience", async () => {
    expect(await verdict(verifier, await identity.tokenFor("alice", {}, { audience: ["other", identity.audience] }))).toBe("ok:alice");
  });

  it("ignores a trailing slash on the token's or the configured issuer", async () => {
    expect(await verdict(verifier, await identity.tokenFor("alice", {}, { issuer: `${identity.issuerUrl}/` }))).toBe("ok:alice");
    const slashed = new JwtVerifier({ issuer: `${identity.issuerUrl}/`, audience: identity.audience, keys });
    expect(await verdict(slashed, await identity.tokenFor("alice"))).toBe("ok:alice");
  });

  it("rejects malformed tokens", async () => {
    expect(await verdict(verifier, "garbage")).toMatch(/^Invalid token format: /);
    expect(await verdict(verifier, "")).toMatch(/^Invalid token format: /);
    expect(await verdict(verifier, "a.b.c")).toMatch(/^Invalid token format: /);
    expect(await verdict(verifier, `${encodeSegment({})}.${encodeSegment({ sub: "x" })}.sig`)).toBe("Invalid token: missing header");
  });

  it("rejects an oversized token without parsing it", async () => {
    expect(await verdict(verifier, "a".repeat(MAX_TOKEN_LENGTH + 1))).toBe("Invalid token format: token is too large");
  });

  it("rejects an expired token", async () => {
    expect(await verdict(verifier, await identity.tokenFor("alice", {}, { expiresIn: -10 }))).toBe("Token has expired");
  });

  it("rejects a token without exp", async () => {
    expect(await verdict(verifier, await identity.tokenFor("alice", {}, { expiresIn: null }))).toMatch(/^Invalid token claims: .*"exp"/);
  });

  it("rejects a token that is not yet valid", async () => {
    expect(await verdict(verifier, await identity.tokenFor("alice", {}, { notBefore: 600 }))).toMatch(/^Invalid token claims: .*nbf/);
  });

  it("rejects the wrong audience, and a missing one", async () => {
    expect(await verdict(verifier, await identity.tokenFor("alice", {}, { audience: "someone-else" }))).toBe("Invalid audience claim");
    expect(await verdict(verifier, await identity.tokenFor("alice", {}, { audience: null }))).toBe("Invalid audience claim");
  });

  it("rejects the wrong issuer, and a missing one", async () => {
    expect(await verdict(verifier, await identity.tokenFor("alice", {}, { issuer: "https://evil.example.com/realms/test" }))).toBe(
      "Invalid issuer claim",
    );
    expect(await verdict(verifier, await identity.tokenFor("alice", {}, { issuer: null }))).toBe("Invalid issuer claim");
  });

  it("rejects alg none before touching the key set", async () => {
    const fetchesBefore = identity.fetches.jwks;
    const fresh = newVerifier();
    const unsigned = `${encodeSegment({ alg: "none", typ: "JWT" })}.${encodeSegment({
      sub: "mallory",
      iss: identity.issuerUrl,
      aud: identity.audience,
      exp: Math.floor(Date.now() / 1000) + 300,
    })}.`;
    expect(await verdict(fresh, unsigned)).toBe('Invalid token: algorithm "none" is not allowed');
    expect(identity.fetches.jwks).toBe(fetchesBefore);
  });

  it("rejects HS256 signed with the public key as the secret", async () => {
    const jwk = identity.currentPublicJwk();
    const secret = new TextEncoder().encode(JSON.stringify(jwk));
    const forged = await new SignJWT({ sub: "mallory", iss: identity.issuerUrl, aud: identity.audience })
      .setProtectedHeader({ alg: "HS256", kid: jwk.kid as string })
      .setExpirationTime("5m")
      .sign(secret);
    expect(await verdict(verifier, forged)).toBe('Invalid token: algorithm "HS256" is not allowed');
  });

  it("rejects a token whose signature does not match", async () => {
    const [header, payload] = (await identity.tokenFor("alice")).split(".");
    const [, , otherSignature] = (await identity.tokenFor("bob")).split(".");
    expect(await verdict(verifier, `${header}.${payload}.${otherSignature}`)).toBe("Invalid token signature");
    const tamperedPayload = encodeSegment({ sub: "root", iss: identity.issuerUrl, aud: identity.audience, exp: 9999999999 });
    const [, , signature] = (await identity.tokenFor("alice")).split(".");
    expect(await verdict(verifier, `${header}.${tamperedPayload}.${signature}`)).toBe("Invalid token signature");
  });

  it("rejects a token signed by a key that was never published, refreshing the key set at most once per cool-down", async () => {
    const fresh = newVerifier();
    await fresh.verify(await identity.tokenFor("alice"));
    // A key set fetched moments ago is not refetched: the cool-down counts from the last fetch.
    const kid = await identity.addUnpublishedKey();
    expect(await verdict(fresh, await identity.tokenFor("mallory", {}, { kid }))).toMatch(/^Invalid token: /);
    clock += 60_000;
    const fetchesBefore = identity.fetches.jwks;
    const token = await identity.tokenFor("mallory", {}, { kid });
    expect(await verdict(fresh, token)).toMatch(/^Invalid token: /);
    expect(identity.fetches.jwks).toBe(fetchesBefore + 1);
    // Within the cool-down, more unknown kids cost no fetch.
    expect(await verdict(fresh, token)).toMatch(/^Invalid token: /);
    expect(await verdict(fresh, token)).toMatch(/^Invalid token: /);
    expect(identity.fetches.jwks).toBe(fetchesBefore + 1);
  });

  it("picks up a rotated key without a restart", async () => {
    const fresh = newVerifier();
    expect(await verdict(fresh, await identity.tokenFor("alice"))).toBe("ok:alice");
    clock += 60_000; // past the cool-down
    await identity.rotateKey();
    expect(await verdict(fresh, await identity.tokenFor("alice"))).toBe("ok:alice");
  });

  it("rejects a token signed with a retired key once the key set is refreshed", async () => {
    clock += 60_000;
    const oldKid = identity.currentKid;
    const oldToken = await identity.tokenFor("alice", {}, { kid: oldKid });
    const fresh = newVerifier();
    expect(await verdict(fresh, oldToken)).toBe("ok:alice");
    await identity.rotateKey({ retireOld: true });
    const refreshed = newVerifier();
    expect(await verdict(refreshed, oldToken)).toMatch(/^Invalid token: /);
  });

  it("caches the key set: many verifications, one discovery and one JWKS fetch", async () => {
    const fresh = newVerifier();
    const before = { ...identity.fetches };
    const token = await identity.tokenFor("alice");
    await Promise.all(Array.from({ length: 20 }, () => fresh.verify(token)));
    await fresh.verify(token);
    expect(identity.fetches.discovery - before.discovery).toBe(1);
    expect(identity.fetches.jwks - before.jwks).toBe(1);
  });

  it("refetches the key set after the cache lifetime", async () => {
    const fresh = newVerifier();
    const token = await identity.tokenFor("alice");
    await fresh.verify(token);
    const before = identity.fetches.jwks;
    clock += 25 * 60 * 60 * 1000;
    await fresh.verify(token);
    expect(identity.fetches.jwks).toBe(before + 1);
  });

  it("reports an unreachable identity provider as unavailable, not as a bad token", async () => {
    const fresh = newVerifier();
    identity.setDown(true);
    try {
      expect(await verdict(fresh, await identity.tokenFor("alice"))).toMatch(/^unavailable:/);
    } finally {
      identity.setDown(false);
    }
    expect(await verdict(fresh, await identity.tokenFor("alice"))).toBe("ok:alice");
  });

  it("keeps serving cached keys when a refetch fails", async () => {
    const fresh = newVerifier();
    const token = await identity.tokenFor("alice");
    await fresh.verify(token);
    clock += 25 * 60 * 60 * 1000;
    identity.setDown(true);
    try {
      expect(await verdict(fresh, token)).toBe("ok:alice");
    } finally {
      identity.setDown(false);
    }
  });

  it("reports a closed port as unavailable", async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const nowhere = new JwtVerifier({
      issuer: `http://127.0.0.1:${port}`,
      audience: "kartograph-api",
      keys: new DiscoveredKeySet({ issuerUrl: `http://127.0.0.1:${port}` }),
    });
    expect(await verdict(nowhere, await identity.tokenFor("alice"))).toMatch(/^unavailable:Failed to fetch OIDC discovery document/);
  });

  it("rejects a token signed by a key of another issuer that reuses a published kid", async () => {
    const other = await startTestIdentity();
    try {
      const { privateKey } = await import("jose").then((jose) => jose.generateKeyPair("RS256"));
      const forged = await new SignJWT({ sub: "mallory", iss: identity.issuerUrl, aud: identity.audience })
        .setProtectedHeader({ alg: "RS256", kid: identity.currentKid })
        .setExpirationTime("5m")
        .sign(privateKey);
      expect(await verdict(verifier, forged)).toBe("Invalid token signature");
      // And the JWK import path works for the test identity's keys.
      await importJWK(identity.currentPublicJwk(), "RS256");
    } finally {
      await other.close();
    }
  });

  it("remembers a verified token, but never past its exp", async () => {
    let now = Date.now();
    const remembering = new JwtVerifier({
      issuer: identity.issuerUrl,
      audience: identity.audience,
      keys: new DiscoveredKeySet({ issuerUrl: identity.issuerUrl }),
      currentDate: () => new Date(now),
    });
    const token = await identity.tokenFor("alice", {}, { expiresIn: 120 });
    expect(await verdict(remembering, token)).toBe("ok:alice");
    const fetches = identity.fetches.jwks;
    identity.setDown(true);
    try {
      // Answered from memory: the provider being down does not matter.
      expect(await verdict(remembering, token)).toBe("ok:alice");
    } finally {
      identity.setDown(false);
    }
    expect(identity.fetches.jwks).toBe(fetches);
    now += 121_000;
    expect(await verdict(remembering, token)).toBe("Token has expired");
  });

  it("does not remember rejected tokens", async () => {
    let now = Date.now();
    const remembering = new JwtVerifier({
      issuer: identity.issuerUrl,
      audience: identity.audience,
      keys: new DiscoveredKeySet({ issuerUrl: identity.issuerUrl }),
      currentDate: () => new Date(now),
    });
    const early = await identity.tokenFor("alice", {}, { notBefore: 60 });
    expect(await verdict(remembering, early)).toMatch(/^Invalid token claims/);
    now += 61_000;
    expect(await verdict(remembering, early)).toBe("ok:alice");
  });
});
