/** Request and response schemas of the tenant routes. */
import { Type, type Static } from "typebox";
import { EmailField, TenantRoleField, UserIdField, UserIdParameter, nameField, ulidParameter } from "./request-fields.js";

export const TenantIdParams = Type.Object({ tenant_id: ulidParameter("Tenant") });
export const TenantMemberParams = Type.Object({ tenant_id: ulidParameter("Tenant"), user_id: UserIdParameter });

export const CreateTenantBody = Type.Object({ name: nameField("Tenant") }, { additionalProperties: false });

export const AddTenantMemberBody = Type.Object(
  {
    user_id: Type.Optional(Type.Union([UserIdField, Type.Null()])),
    email: Type.Optional(Type.Union([EmailField, Type.Null()])),
    role: TenantRoleField,
  },
  { additionalProperties: false, description: "Exactly one of user_id and email" },
);
export type AddTenantMemberBody = Static<typeof AddTenantMemberBody>;

export const TenantResponse = Type.Object({ id: Type.String(), name: Type.String() });
export const TenantMemberResponse = Type.Object({
  user_id: Type.String({ description: "The member's user id; for a pending invitation `invitation:<email>`" }),
  role: TenantRoleField,
  status: Type.Enum(["active", "pending"], { description: "`pending`: an invitation that binds at the person's first sign-in" }),
  email: Type.Optional(Type.String({ description: "Pending invitations only: the invited email, lower-cased" })),
});
