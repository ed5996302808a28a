/** Request and response schemas of the tenant routes. */
import { Type, type Static } from "typebox";
import { TENANT_NAME_MAX } from "../domain/names.js";
import { TENANT_ROLES } from "../domain/roles.js";

const Role = Type.Enum([...TENANT_ROLES]);

export const TenantIdParams = Type.Object({ tenant_id: Type.String({ description: "ULID, any case" }) });
export const TenantMemberParams = Type.Object({ tenant_id: Type.String(), user_id: Type.String() });

export const CreateTenantBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: TENANT_NAME_MAX }) },
  { additionalProperties: false },
);

export const AddTenantMemberBody = Type.Object(
  {
    user_id: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Null()])),
    email: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    role: Role,
  },
  { additionalProperties: false, description: "Exactly one of user_id and email" },
);
export type AddTenantMemberBody = Static<typeof AddTenantMemberBody>;

export const TenantResponse = Type.Object({ id: Type.String(), name: Type.String() });
export const TenantMemberResponse = Type.Object({
  user_id: Type.String({ description: "The member's user id; for a pending invitation `invitation:<email>`" }),
  role: Role,
  status: Type.Enum(["active", "pending"], { description: "`pending`: an invitation that binds at the person's first sign-in" }),
  email: Type.Optional(Type.String({ description: "Pending invitations only: the invited email, lower-cased" })),
});
