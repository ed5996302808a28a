/** Persistence of the user aggregate. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface UserRepository {}
