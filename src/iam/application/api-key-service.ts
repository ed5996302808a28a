/**
 * API keys for programs: created by a tenant member for that tenant, shown once, revocable,
 * expiring. Who sees a key follows the api_key `view` permission (its owner, and the tenant's
 * admins); revoking needs `revoke` (the same people).
 */
import type { AuthorizationPort } from "../../shared-kernel/authorization/authorization-port.js";
import { newUlid } from "../../shared-kernel/ids.js";
import { ObservationContext } from "../../shared-kernel/observation-context.js";
import { ApiKey, type ApiKeyState } from "../domain/api-key.js";
import { ForbiddenError, NotFoundError } from "../domain/errors.js";
import { nameOf } from "../domain/names.js";
import type { ApiKeySecrets } from "../ports/api-key-secrets.js";
import type { ApiKeyRepository } from "../ports/api-key-repository.js";
import type { UnitOfWork } from "../ports/unit-of-work.js";
import { KEYS_CANNOT_CREATE_KEYS, requirePerson } from "./api-key-confinement.js";
import type { ApiKeyServiceProbe } from "./api-key-service-probe.js";
import type { Caller } from "./caller.js";
import { writeAsMember, type HoldRefusals } from "./member-hold.js";

export const NO_PERMISSION = "You do not have permission to perform this action";
export const API_KEY_NOT_FOUND = "API key not found";

export interface CreatedApiKey {
  readonly apiKey: ApiKeyState;
  /** The only time the secret exists outside the caller's hands. */
  readonly secret: string;
}

export interface ApiKeyServiceDependencies {
  readonly unitOfWork: UnitOfWork;
  readonly authorization: AuthorizationPort;
  /** For reads outside a transaction. */
  readonly apiKeys: ApiKeyRepository;
  readonly secrets: ApiKeySecrets;
  readonly probe: ApiKeyServiceProbe;
  readonly now?: () => Date;
}

export class ApiKeyService {
  private readonly now: () => Date;

  constructor(private readonly deps: ApiKeyServiceDependencies) {
    this.now = deps.now ?? (() => new Date());
  }

  private probe(caller: Caller, context: ObservationContext): ApiKeyServiceProbe {
    return this.deps.probe.withContext(context.with({ userId: caller.userId, tenantId: caller.tenantId }));
  }

  /**
   * A key for the caller in their tenant. Refused to API keys (a key's children would outlive its
   * revocation). The creator's membership is held inside the transaction: a removal from the
   * tenant either waits for the key and then revokes it, or finishes first and the key is refused.
   */
  async create(caller: Caller, rawName: string, expiresInDays: number, context = ObservationContext.empty): Promise<CreatedApiKey> {
    const probe = this.probe(caller, context);
    requirePerson(caller, KEYS_CANNOT_CREATE_KEYS);
    const name = nameOf("API key", rawName); // a bad name is 422 before any permission check
    const allowed = await this.deps.authorization.check({
      resource: { type: "tenant", id: caller.tenantId },
      permission: "create_api_key",
      subject: { type: "user", id: caller.userId },
    });
    if (!allowed) {
      probe.apiKeyCreationDenied({ reason: "no create_api_key permission on the tenant" });
      throw new ForbiddenError(NO_PERMISSION);
    }
    const issued = this.deps.secrets.issue();
    const createdAt = this.now();
    const apiKey = await this.deps.unitOfWork.run(async (tx) => {
      const key = ApiKey.issue({
        id: newUlid(),
        tenantId: caller.tenantId,
        createdByUserId: caller.userId,
        name,
        keyDigest: issued.digest,
        prefix: issued.prefix,
        expiresInDays,
        now: createdAt,
      });
      await writeAsMember(tx, caller, this.holdRefusals(caller, probe), () => tx.repositories.apiKeys.add(key));
      tx.record(...key.pullEvents());
      return key.snapshot();
    });
    probe.apiKeyCreated({ apiKeyId: apiKey.id });
    return { apiKey, secret: issued.secret };
  }

  private holdRefusals(caller: Caller, probe: ApiKeyServiceProbe): HoldRefusals {
    return {
      noTenant: () => new NotFoundError(`Tenant ${caller.tenantId} not found`),
      notMember: () => {
        probe.apiKeyCreationDenied({ reason: "the creator is no longer a member of the tenant" });
        return new ForbiddenError(NO_PERMISSION);
      },
    };
  }

  /** Keys of the caller's tenant they may view; revoked and expired keys included. */
  list(caller: Caller, createdBy: string | null): Promise<ApiKeyState[]> {
    return this.deps.apiKeys.listVisible(caller.tenantId, caller.userId, createdBy);
  }

  async revoke(caller: Caller, apiKeyId: string, context = ObservationContext.empty): Promise<void> {
    const probe = this.probe(caller, context);
    const subject = { type: "user", id: caller.userId };
    const resource = { type: "api_key", id: apiKeyId };
    await this.deps.unitOfWork.run(async (tx) => {
      const key = await tx.repositories.apiKeys.findInTenantForUpdate(caller.tenantId, apiKeyId);
      if (key === null) throw new NotFoundError(API_KEY_NOT_FOUND);
      const [canView, canRevoke] = await this.deps.authorization.checkBulk([
        { resource, permission: "view", subject },
        { resource, permission: "revoke", subject },
      ]);
      // Whoever may not even see the key learns nothing about it (DESIGN decision 3).
      if (!canView) throw new NotFoundError(API_KEY_NOT_FOUND);
      if (!canRevoke) {
        probe.apiKeyRevocationDenied({ apiKeyId });
        throw new ForbiddenError(NO_PERMISSION);
      }
      key.revoke(this.now());
      await tx.repositories.apiKeys.save(key);
      tx.record(...key.pullEvents());
    });
    probe.apiKeyRevoked({ apiKeyId });
  }
}
