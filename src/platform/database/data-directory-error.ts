/** The embedded data directory cannot be used (unwritable, or held by another process). */
export class DataDirectoryError extends Error {
  override name = "DataDirectoryError";
}
