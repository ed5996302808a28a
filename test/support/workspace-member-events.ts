/** One tenant's workspace and the member events the relationship-sync tests record for it. */
import type { IamEvent } from "../../src/iam/domain/events.js";

export const T = "01J000000000000000000TENA1";
export const W = "01J000000000000000000WSPA1";
export const at = new Date("2026-01-02T03:04:05Z");

/** `userId` becomes an editor of W. */
export const memberAdded = (userId: string): IamEvent => ({
  type: "WorkspaceMemberAdded",
  tenantId: T,
  occurredAt: at,
  workspaceId: W,
  memberId: userId,
  memberType: "user",
  role: "editor",
});
export const memberRemoved = (userId: string): IamEvent => ({ ...memberAdded(userId), type: "WorkspaceMemberRemoved" }) as IamEvent;
