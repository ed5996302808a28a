import { InvalidInputError } from "./errors.js";

export const GROUP_NAME_MAX_LENGTH = 255;

/**
 * A group's name as stored: trimmed, 1 to 255 characters. Length counts characters (code points),
 * as the varchar(255) column does, not UTF-16 units.
 */
export function groupNameOf(raw: string): string {
  const name = raw.trim();
  const length = [...name].length;
  if (length < 1 || length > GROUP_NAME_MAX_LENGTH) {
    throw new InvalidInputError(`Group name must be between 1 and ${GROUP_NAME_MAX_LENGTH} characters`);
  }
  return name;
}
