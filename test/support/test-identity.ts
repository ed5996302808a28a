/**
 * A test OIDC issuer: real key pairs, a local HTTP server (127.0.0.1, random port) serving
 * `/.well-known/openid-configuration` and the JWKS, and helpers that sign real tokens. Point the
 * service at it with `identity.env` (or `identity.issuerUrl` / `identity.audience`).
 *
 *   const identity = await startTestIdentity();
 *   const token = await identity.tokenFor("alice");            // sub=alice, preferred_username=alice
 *   headers: { authorization: `Bearer ${token}` }
 */
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from "jose";

export type TestAlgorithm = "RS256" | "ES256";

interface SigningKey {
  readonly kid: string;
  readonly alg: TestAlgorithm;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
  published: boolean;
}

export interface SignOptions {
  /** Which key signs (default: the current key). */
  readonly kid?: string;
  /** Extra protected-header parameters (the key decides `alg`). */
  readonly header?: Record<string, unknown>;
  /** Seconds from now; null leaves `exp` out. Default 300. */
  readonly expiresIn?: number | null;
  /** Seconds from now for `nbf`; default none. */
  readonly notBefore?: number;
  /** Default: the issuer URL; null leaves `iss` out. */
  readonly issuer?: string | null;
  /** Default: the audience; null leaves `aud` out. */
  readonly audience?: string | string[] | null;
}

export interface TestProfile {
  readonly username?: string;
  readonly name?: string | null;
  readonly email?: string | null;
}

export interface TestIdentity {
  /** Without a trailing slash. */
  readonly issuerUrl: string;
  readonly audience: string;
  /** Environment for loadConfig that makes the service trust this issuer. */
  readonly env: Readonly<Record<string, string>>;
  /** How often the service fetched discovery and keys (caching tests). */
  readonly fetches: { discovery: number; jwks: number };
  /** The kid of the key that signs by default. */
  readonly currentKid: string;
  sign(claims: Record<string, unknown>, options?: SignOptions): Promise<string>;
  /** A valid token for `userId` with username (default = userId), name and email claims. */
  tokenFor(userId: string, profile?: TestProfile, options?: SignOptions): Promise<string>;
  /** A new published key becomes the default signer (old keys stay published unless `retireOld`). */
  rotateKey(options?: { retireOld?: boolean }): Promise<string>;
  /** A key that signs but is not (yet) in the JWKS: its kid is unknown to the service. */
  addUnpublishedKey(alg?: TestAlgorithm): Promise<string>;
  publish(kid: string): void;
  /** The public key of the current signer, as JWK (for HS256-with-public-key attacks). */
  currentPublicJwk(): JWK;
  /** While down, discovery and JWKS answer 503. */
  setDown(down: boolean): void;
  close(): Promise<void>;
}

async function newKey(alg: TestAlgorithm, published: boolean): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = randomUUID();
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" }, published };
}

export async function startTestIdentity(options: { audience?: string; algorithm?: TestAlgorithm } = {}): Promise<TestIdentity> {
  const audience = options.audience ?? "kartograph-api";
  const keys: SigningKey[] = [await newKey(options.algorithm ?? "RS256", true)];
  let currentKid = keys[0]!.kid;
  let down = false;
  const fetches = { discovery: 0, jwks: 0 };
  let issuerUrl = "";

  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    const send = (status: number, body: unknown) => {
      response.writeHead(status, { "content-type": "application/json" });
      response.end(JSON.stringify(body));
    };
    if (path === "/realms/test/.well-known/openid-configuration") {
      fetches.discovery++;
      if (down) return send(503, { error: "down" });
      return send(200, { issuer: issuerUrl, jwks_uri: `${issuerUrl}/protocol/openid-connect/certs` });
    }
    if (path === "/realms/test/protocol/openid-connect/certs") {
      fetches.jwks++;
      if (down) return send(503, { error: "down" });
      return send(200, { keys: keys.filter((key) => key.published).map((key) => key.publicJwk) });
    }
    return send(404, { error: "not found" });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  issuerUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/realms/test`;

  const keyOf = (kid: string) => {
    const key = keys.find((candidate) => candidate.kid === kid);
    if (key === undefined) throw new Error(`no test key ${kid}`);
    return key;
  };

  const identity: TestIdentity = {
    issuerUrl,
    audience,
    env: { KARTOGRAPH_OIDC_ISSUER_URL: issuerUrl, KARTOGRAPH_OIDC_AUDIENCE: audience },
    fetches,
    get currentKid() {
      return currentKid;
    },
    async sign(claims, signOptions = {}) {
      const key = keyOf(signOptions.kid ?? currentKid);
      const now = Math.floor(Date.now() / 1000);
      const payload: Record<string, unknown> = { iat: now, ...claims };
      const issuer = signOptions.issuer === undefined ? issuerUrl : signOptions.issuer;
      if (issuer !== null && !("iss" in claims)) payload["iss"] = issuer;
      const aud = signOptions.audience === undefined ? audience : signOptions.audience;
      if (aud !== null && !("aud" in claims)) payload["aud"] = aud;
      const expiresIn = signOptions.expiresIn === undefined ? 300 : signOptions.expiresIn;
      if (expiresIn !== null && !("exp" in claims)) payload["exp"] = now + expiresIn;
      if (signOptions.notBefore !== undefined) payload["nbf"] = now + signOptions.notBefore;
      return new SignJWT(payload)
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "JWT", ...signOptions.header })
        .sign(key.privateKey);
    },
    tokenFor(userId, profile = {}, signOptions) {
      const claims: Record<string, unknown> = { sub: userId, preferred_username: profile.username ?? userId };
      if (profile.name !== undefined) claims["name"] = profile.name;
      if (profile.email !== undefined) claims["email"] = profile.email;
      return identity.sign(claims, signOptions);
    },
    async rotateKey(rotateOptions = {}) {
      if (rotateOptions.retireOld) for (const key of keys) key.published = false;
      const key = await newKey(keyOf(currentKid).alg, true);
      keys.push(key);
      currentKid = key.kid;
      return key.kid;
    },
    async addUnpublishedKey(alg = "RS256") {
      const key = await newKey(alg, false);
      keys.push(key);
      return key.kid;
    },
    publish(kid) {
      keyOf(kid).published = true;
    },
    currentPublicJwk() {
      return keyOf(currentKid).publicJwk;
    },
    setDown(value) {
      down = value;
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      });
    },
  };
  return identity;
}
