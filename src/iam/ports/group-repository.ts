/** Persistence of the group aggregate. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface GroupRepository {}
