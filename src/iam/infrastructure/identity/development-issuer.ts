/**
 * The development token issuer: when no OIDC provider is configured (and never in production),
 * the service trusts a signing key kept in `<dataDir>/dev-issuer/`, and `kartograph-iam token`
 * signs access tokens with it. A new user can call the API without running an identity provider.
 */
import { randomUUID } from "node:crypto";
import { mkdir, link, readFile, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from "jose";
import { LocalKeySet } from "./local-key-set.js";

/** The `iss` of development tokens; no real provider uses it. */
export const DEVELOPMENT_ISSUER = "urn:kartograph-iam:development-issuer";
const ALGORITHM = "ES256";
const KEY_FILE = "signing-key.json";

export interface DevelopmentTokenRequest {
  readonly subject: string;
  readonly username: string;
  readonly name?: string | null;
  readonly email?: string | null;
  readonly audience: string;
  readonly ttlSeconds: number;
}

export class DevelopmentIssuer {
  private constructor(
    private readonly privateJwk: JWK,
    readonly publicJwk: JWK,
    readonly directory: string,
  ) {}

  /** Loads the key pair from `<dataDir>/dev-issuer/`, creating it on first use (race-safe). */
  static async open(dataDir: string): Promise<DevelopmentIssuer> {
    const directory = join(dataDir, "dev-issuer");
    const file = join(directory, KEY_FILE);
    await mkdir(directory, { recursive: true, mode: 0o700 });
    let privateJwk = await readKey(file);
    if (privateJwk === null) {
      const { privateKey } = await generateKeyPair(ALGORITHM, { extractable: true });
      const created: JWK = { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: ALGORITHM, use: "sig" };
      // Write aside, then link into place: link fails if another process got there first, in
      // which case its key is the one everybody uses.
      const scratch = join(directory, `.${KEY_FILE}.${process.pid}.${randomUUID()}`);
      await writeFile(scratch, `${JSON.stringify(created)}\n`, { mode: 0o600 });
      try {
        await link(scratch, file);
      } catch (error) {
        if ((error as { code?: string }).code !== "EEXIST") throw error;
      } finally {
        await unlink(scratch);
      }
      privateJwk = await readKey(file);
      if (privateJwk === null) throw new Error(`cannot read the development signing key in ${file}`);
    }
    const { d: _private, ...publicJwk } = privateJwk;
    return new DevelopmentIssuer(privateJwk, publicJwk, directory);
  }

  keySet(): LocalKeySet {
    return new LocalKeySet({ keys: [this.publicJwk] });
  }

  async sign(request: DevelopmentTokenRequest): Promise<string> {
    const key = await importJWK(this.privateJwk, ALGORITHM);
    const claims: Record<string, unknown> = { preferred_username: request.username };
    if (request.name) claims["name"] = request.name;
    // Whoever runs the development issuer vouches for the address, as a provider does after a
    // confirmation mail: invitations to it bind at the first sign-in.
    if (request.email) Object.assign(claims, { email: request.email, email_verified: true });
    return new SignJWT(claims)
      .setProtectedHeader({ alg: ALGORITHM, kid: this.publicJwk.kid as string, typ: "JWT" })
      .setIssuer(DEVELOPMENT_ISSUER)
      .setAudience(request.audience)
      .setSubject(request.subject)
      .setIssuedAt()
      .setExpirationTime(`${request.ttlSeconds}s`)
      .sign(key);
  }
}

async function readKey(file: string): Promise<JWK | null> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return null;
    throw error;
  }
  const parsed = JSON.parse(text) as JWK;
  if (typeof parsed.d !== "string" || typeof parsed.kid !== "string") {
    throw new Error(`${file} is not a development signing key; delete it to create a new one`);
  }
  return parsed;
}
