/**
 * A user as the identity provider describes them. Users are not managed here: they appear (and
 * their profile follows the token's claims) when they first call the API with an access token.
 */
export interface UserProfile {
  /** The IdP subject; opaque, at most 255 characters. */
  readonly id: string;
  /** Globally unique. */
  readonly username: string;
  readonly name: string | null;
  readonly email: string | null;
}

export const MAX_USER_FIELD_LENGTH = 255;

export function usernameTakenMessage(username: string): string {
  return `Username '${username}' is already taken by another account. Contact your administrator if you believe this is an error.`;
}
