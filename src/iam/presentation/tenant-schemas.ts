/** Request and response schemas of the tenant routes. */
import { Type, type Static } from "typebox";
import { EXAMPLE } from "./examples.js";
import { EmailField, TenantRoleField, UserIdField, UserIdParameter, nameField, ulidParameter } from "./request-fields.js";

export const TenantIdParams = Type.Object({ tenant_id: ulidParameter("Tenant") });
export const TenantMemberParams = Type.Object({ tenant_id: ulidParameter("Tenant"), user_id: UserIdParameter });

export const CreateTenantBody = Type.Object({ name: nameField("Tenant") }, { additionalProperties: false, examples: [{ name: "Acme" }] });

export const AddTenantMemberBody = Type.Object(
  {
    user_id: Type.Optional(Type.Union([UserIdField, Type.Null()])),
    email: Type.Optional(Type.Union([EmailField, Type.Null()])),
    role: TenantRoleField,
  },
  {
    additionalProperties: false,
    description: "Exactly one of user_id and email",
    examples: [{ user_id: EXAMPLE.otherUserId, role: "member" }],
  },
);
export type AddTenantMemberBody = Static<typeof AddTenantMemberBody>;

const tenantExample = { id: EXAMPLE.tenantId, name: "Acme" };

export const TenantResponse = Type.Object({ id: Type.String(), name: Type.String() }, { description: "The tenant", examples: [tenantExample] });
export const TenantListResponse = Type.Array(TenantResponse, { description: "The caller's tenants", examples: [[tenantExample]] });

const memberExample = { user_id: EXAMPLE.otherUserId, role: "member", status: "active" };
const invitationExample = { user_id: "invitation:carol@example.com", role: "member", status: "pending", email: "carol@example.com" };

export const TenantMemberResponse = Type.Object(
  {
    user_id: Type.String({ description: "The member's user id; for a pending invitation `invitation:<email>`" }),
    role: TenantRoleField,
    status: Type.Enum(["active", "pending"], { description: "`pending`: an invitation that binds at the person's first sign-in" }),
    email: Type.Optional(Type.String({ description: "Pending invitations only: the invited email, lower-cased" })),
  },
  { description: "The member, or the invitation", examples: [memberExample] },
);
export const TenantMemberListResponse = Type.Array(TenantMemberResponse, {
  description: "Members, then pending invitations",
  examples: [[{ user_id: EXAMPLE.userId, role: "admin", status: "active" }, memberExample, invitationExample]],
});
