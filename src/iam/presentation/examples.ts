/**
 * The values the OpenAPI examples use, so that the examples of different routes describe one
 * consistent tenant (its root workspace, a child, a group, a key) a reader can follow.
 */
export const EXAMPLE = {
  tenantId: "01JZ8Q5K2M3N4P5Q6R7S8T9V0W",
  rootWorkspaceId: "01JZ8Q5K2M3N4P5Q6R7S8T9V1A",
  workspaceId: "01JZ8Q6V3C4M8N2P5R7T9W1X3Y",
  groupId: "01JZ8Q7D5F6G7H8J9K0M1N2P3Q",
  apiKeyId: "01JZ8Q8A1B2C3D4E5F6G7H8J9K",
  userId: "f3b9c2a0-5d1e-4c7a-9b8e-2a6d4c1e7f90",
  otherUserId: "8c1d7e42-0b9a-4f3e-a6d5-71c2b9e0f4a3",
  createdAt: "2026-11-02T09:15:27.481000Z",
  updatedAt: "2026-11-02T09:15:27.481000Z",
  expiresAt: "2027-01-31T09:15:27Z",
} as const;
