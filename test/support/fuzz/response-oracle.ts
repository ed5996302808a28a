/**
 * What every answer of the service must be, whatever it was sent: never a 5xx; a 4xx is JSON
 * with `detail`; no body shows a stack trace, SQL or the names of tables and constraints.
 */

export interface Answer {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, unknown>>;
  readonly body: string;
}

const LEAKS: readonly [string, RegExp][] = [
  ["a stack trace", /\n\s+at |node_modules|\.[cm]?[jt]s:\d+/],
  ["SQL", /\b(select\s.+\sfrom|insert\s+into|update\s+\w+\s+set|delete\s+from)\b|violates|duplicate key|character varying|syntax error|relation "|sqlstate/i],
  ["an internal name", /\b(tenant_members|workspace_members|group_members|api_keys|group_list_versions|outbox|authz_revision|drizzle|pglite|(uq|fk|ck|pk|ix)_[a-z]+_[a-z_]+)\b/i],
  ["an internal error", /\b(TypeError|RangeError|ReferenceError|SyntaxError|ECONNREFUSED)\b|undefined is not|Cannot read propert/],
];

/** The body without the client's own input echoed in validation issues. */
function withoutEchoes(parsed: unknown): unknown {
  if (parsed === null || typeof parsed !== "object" || !("detail" in parsed)) return parsed;
  const detail = (parsed as { detail: unknown }).detail;
  if (!Array.isArray(detail)) return parsed;
  return { detail: detail.map((issue: unknown) => (issue !== null && typeof issue === "object" ? { ...issue, input: undefined } : issue)) };
}

export function problemsOf(answer: Answer): string[] {
  const problems: string[] = [];
  if (answer.statusCode >= 500) problems.push(`answered ${answer.statusCode}`);
  let parsed: unknown = undefined;
  if (answer.body !== "") {
    try {
      parsed = JSON.parse(answer.body);
    } catch {
      problems.push("body is not JSON");
    }
  }
  if (answer.statusCode >= 400) {
    const type = String(answer.headers["content-type"] ?? "");
    if (!type.startsWith("application/json")) problems.push(`error answered as ${type || "no content type"}`);
    if (parsed === null || typeof parsed !== "object" || !("detail" in parsed)) problems.push("error body has no detail");
  }
  const scanned = parsed === undefined ? answer.body : JSON.stringify(withoutEchoes(parsed));
  for (const [what, pattern] of LEAKS) if (pattern.test(scanned)) problems.push(`body shows ${what}`);
  return problems;
}
