/**
 * SCIM tokens: the credentials a tenant's identity provider provisions users with. Only tenant
 * admins, with a person's token, create, list and revoke them: a directory token can change who
 * belongs to the tenant, so an API key (which acts for one person) may not mint one. The secret
 * is shown once; only its digest is stored.
 */
import type { AuthorizationPort } from "../../shared-kernel/authorization/authorization-port.js";
import { newUlid } from "../../shared-kernel/ids.js";
import { ForbiddenError, NotFoundError } from "../domain/errors.js";
import { nameOf } from "../domain/names.js";
import type { ApiKeySecrets } from "../ports/api-key-secrets.js";
import type { ScimToken, ScimTokenHolder, ScimTokens } from "../ports/scim-tokens.js";
import type { UnitOfWork } from "../ports/unit-of-work.js";
import { accessTo } from "./access-check.js";
import { requirePerson } from "./api-key-confinement.js";
import type { Caller } from "./caller.js";

export const KEYS_CANNOT_MANAGE_SCIM_TOKENS = "API keys cannot manage SCIM tokens; use a person's token";
export const SCIM_TOKENS_NEED_ADMIN = "Only tenant admins can manage SCIM tokens";

export interface CreatedScimToken {
  readonly token: ScimToken;
  /** The only time the secret exists outside the caller's hands. */
  readonly secret: string;
}

export interface ScimTokenServiceDependencies {
  /** Creating and revoking a token are audited changes of the tenant (ScimTokenCreated, ScimTokenRevoked). */
  readonly unitOfWork: UnitOfWork;
  /** For reads outside a transaction: on the primary, so that a revocation holds at once everywhere. */
  readonly tokens: ScimTokens;
  readonly secrets: ApiKeySecrets;
  readonly authorization: AuthorizationPort;
  readonly now?: () => Date;
}

export class ScimTokenService {
  private readonly now: () => Date;

  constructor(private readonly deps: ScimTokenServiceDependencies) {
    this.now = deps.now ?? (() => new Date());
  }

  private async requireTenantAdmin(caller: Caller): Promise<void> {
    requirePerson(caller, KEYS_CANNOT_MANAGE_SCIM_TOKENS);
    const outcome = await accessTo(this.deps.authorization, { type: "tenant", id: caller.tenantId }, caller, "administrate");
    if (outcome === "hidden") throw new NotFoundError(`Tenant ${caller.tenantId} not found`);
    if (outcome === "forbidden") throw new ForbiddenError(SCIM_TOKENS_NEED_ADMIN);
  }

  async create(caller: Caller, rawName: string): Promise<CreatedScimToken> {
    const name = nameOf("SCIM token", rawName);
    await this.requireTenantAdmin(caller);
    const issued = this.deps.secrets.issue();
    const token: ScimToken = {
      id: newUlid(),
      tenantId: caller.tenantId,
      name,
      prefix: issued.prefix,
      createdByUserId: caller.userId,
      createdAt: this.now(),
      revokedAt: null,
    };
    await this.deps.unitOfWork.run(async (tx) => {
      await tx.repositories.scimTokens.insert(token, issued.digest);
      tx.record({ type: "ScimTokenCreated", tenantId: token.tenantId, tokenId: token.id, name, createdBy: caller.userId, occurredAt: token.createdAt });
    });
    return { token, secret: issued.secret };
  }

  async list(caller: Caller): Promise<ScimToken[]> {
    await this.requireTenantAdmin(caller);
    return this.deps.tokens.listOfTenant(caller.tenantId);
  }

  async revoke(caller: Caller, id: string): Promise<void> {
    await this.requireTenantAdmin(caller);
    await this.deps.unitOfWork.run(async (tx) => {
      const now = this.now();
      const revoked = await tx.repositories.scimTokens.revoke(caller.tenantId, id, now);
      if (revoked === null) throw new NotFoundError("SCIM token not found");
      if (revoked.revokedNow) tx.record({ type: "ScimTokenRevoked", tenantId: caller.tenantId, tokenId: id, name: revoked.name, occurredAt: now });
    });
  }

  /** The holder of a SCIM token, or null for anything that is not a live token. */
  async authenticate(secret: string): Promise<ScimTokenHolder | null> {
    if (!this.deps.secrets.isWellFormed(secret)) return null;
    return this.deps.tokens.findUsable(this.deps.secrets.digestOf(secret));
  }
}
