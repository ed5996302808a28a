/** Persistence of the workspace aggregate. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface WorkspaceRepository {}
