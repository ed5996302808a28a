/** Persistence of the tenant aggregate. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface TenantRepository {}
