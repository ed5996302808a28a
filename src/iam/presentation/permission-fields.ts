/**
 * The checks that the permission questions' requests share beyond their schemas: a permission
 * must be one of its resource type's, an object id a ULID, and `subject_type` comes with a
 * `subject_id`. Each answers a FastAPI-shaped issue naming the field, or null.
 */
import type { ValidationIssue } from "../../platform/http/http-error.js";
import { QUESTION_PERMISSIONS, type QuestionResourceType } from "../application/permission-questions.js";

type Loc = readonly (string | number)[];

export function permissionIssue(type: QuestionResourceType, permission: string, loc: Loc): ValidationIssue | null {
  if ((QUESTION_PERMISSIONS[type] as readonly string[]).includes(permission)) return null;
  return {
    type: "enum",
    loc,
    msg: `Input should be a permission of ${type}: ${QUESTION_PERMISSIONS[type].map((p) => `'${p}'`).join(", ")}`,
    input: permission,
  };
}

export function notUlidIssue(input: string, loc: Loc): ValidationIssue {
  return { type: "value_error", loc, msg: "Value error, not a ULID", input };
}

/** A query naming `subject_type` without `subject_id`. */
export function subjectQueryIssue(query: { readonly subject_type?: string; readonly subject_id?: string }): ValidationIssue | null {
  if (query.subject_type === undefined || query.subject_id !== undefined) return null;
  return { type: "missing", loc: ["query", "subject_id"], msg: "Field required with subject_type", input: null };
}
