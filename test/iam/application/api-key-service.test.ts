import { describe, expect, it } from "vitest";
import { ApiKeyService } from "../../../src/iam/application/api-key-service.js";
import type { Caller } from "../../../src/iam/application/caller.js";
import { ForbiddenError } from "../../../src/iam/domain/errors.js";
import { Sha256ApiKeySecrets } from "../../../src/iam/infrastructure/sha256-api-key-secrets.js";
import type { ApiKeyRepository } from "../../../src/iam/ports/api-key-repository.js";
import type { UnitOfWork } from "../../../src/iam/ports/unit-of-work.js";
import type { AuthorizationPort, PermissionCheck } from "../../../src/shared-kernel/authorization/authorization-port.js";
import { RecordingApiKeyServiceProbe } from "../../support/recording-probes.js";

/** Purpose-built fakes: an authorization that denies and records, a unit of work that must not run. */
function denyingAuthorization(asked: PermissionCheck[]): AuthorizationPort {
  return {
    check: async (check: PermissionCheck) => {
      asked.push(check);
      return false;
    },
  } as unknown as AuthorizationPort;
}

const unitOfWorkThatMustNotRun: UnitOfWork = {
  run: () => Promise.reject(new Error("no transaction may start when permission is denied")),
};

describe("ApiKeyService.create", () => {
  it("refuses without create_api_key on the tenant, before any write", async () => {
    const asked: PermissionCheck[] = [];
    const probe = new RecordingApiKeyServiceProbe();
    const service = new ApiKeyService({
      unitOfWork: unitOfWorkThatMustNotRun,
      authorization: denyingAuthorization(asked),
      apiKeys: {} as ApiKeyRepository,
      secrets: new Sha256ApiKeySecrets(),
      probe,
    });
    const caller: Caller = { userId: "outsider", username: "outsider", apiKeyId: null, apiKeyTenantId: null, tenantId: "01JTENANT00000000000000000" };
    await expect(service.create(caller, "key", 30)).rejects.toThrow(ForbiddenError);
    await expect(service.create(caller, "key", 30)).rejects.toThrow("You do not have permission to perform this action");
    expect(asked[0]).toEqual({
      resource: { type: "tenant", id: "01JTENANT00000000000000000" },
      permission: "create_api_key",
      subject: { type: "user", id: "outsider" },
    });
    expect(probe.named("apiKeyCreationDenied").map((call) => call.context["user_id"])).toEqual(["outsider", "outsider"]);
  });
});
