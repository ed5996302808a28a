import { createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from "jose";
import type { KeySetSource } from "./key-set-source.js";

/** A fixed key set held in process (the development issuer's public key). */
export class LocalKeySet implements KeySetSource {
  private readonly keys: JWTVerifyGetKey;

  constructor(jwks: JSONWebKeySet) {
    this.keys = createLocalJWKSet(jwks);
  }

  async current(): Promise<JWTVerifyGetKey> {
    return this.keys;
  }

  async refreshForUnknownKey(): Promise<boolean> {
    return false;
  }
}
