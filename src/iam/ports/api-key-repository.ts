/** Persistence of the api key aggregate. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ApiKeyRepository {}
