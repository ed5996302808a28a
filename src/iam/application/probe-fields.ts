/** A probe fact as a log record: the service logs in snake_case. */
export function snakeCaseFields(fact: object): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fact)) record[key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = value;
  return record;
}

/** Why an operation failed, for a probe fact (the message, not the stack). */
export function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
