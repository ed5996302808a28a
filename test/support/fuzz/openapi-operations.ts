/**
 * The operations of an OpenAPI 3.1 document as the request generator needs them: method, path
 * template, path and query parameters with their schemas, and the JSON body schema.
 */

/** The subset of JSON Schema the service's TypeBox schemas produce. */
export interface JsonSchema {
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | JsonSchema;
  readonly items?: JsonSchema;
  readonly anyOf?: readonly JsonSchema[];
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly pattern?: string;
  readonly format?: string;
  readonly description?: string;
}

export interface Parameter {
  readonly name: string;
  readonly required: boolean;
  readonly schema: JsonSchema;
}

export interface Operation {
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** The OpenAPI template, e.g. /iam/tenants/{tenant_id}. */
  readonly path: string;
  readonly pathParameters: readonly Parameter[];
  readonly queryParameters: readonly Parameter[];
  readonly body: JsonSchema | null;
  readonly bodyRequired: boolean;
}

interface OpenApiParameter {
  readonly in: string;
  readonly name: string;
  readonly required?: boolean;
  readonly schema?: JsonSchema;
}

interface OpenApiOperation {
  readonly parameters?: readonly OpenApiParameter[];
  readonly requestBody?: { readonly required?: boolean; readonly content?: Record<string, { schema?: JsonSchema }> };
}

export interface OpenApiDocument {
  readonly paths: Record<string, Record<string, OpenApiOperation>>;
}

const METHODS = new Set(["get", "post", "put", "patch", "delete"]);

export function operationsOf(document: OpenApiDocument): Operation[] {
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if (!METHODS.has(method)) continue;
      const parameters = operation.parameters ?? [];
      const parameter = (p: OpenApiParameter): Parameter => ({ name: p.name, required: p.required === true, schema: p.schema ?? {} });
      const body = operation.requestBody?.content?.["application/json"]?.schema ?? null;
      operations.push({
        method: method.toUpperCase() as Operation["method"],
        path,
        pathParameters: parameters.filter((p) => p.in === "path").map(parameter),
        queryParameters: parameters.filter((p) => p.in === "query").map(parameter),
        body,
        bodyRequired: body !== null && operation.requestBody?.required !== false,
      });
    }
  }
  return operations;
}

export function typesOf(schema: JsonSchema): string[] {
  const own = schema.type === undefined ? [] : typeof schema.type === "string" ? [schema.type] : [...schema.type];
  return [...own, ...(schema.anyOf ?? []).flatMap(typesOf)];
}

/** The literal values an enum-like schema allows (enum, const, or anyOf of those), else null. */
export function literalsOf(schema: JsonSchema): unknown[] | null {
  if (schema.enum !== undefined) return [...schema.enum];
  if ("const" in schema) return [schema.const];
  if (schema.anyOf !== undefined) {
    const branches = schema.anyOf.map(literalsOf);
    if (branches.every((branch) => branch !== null)) return branches.flat();
  }
  return null;
}

/** The string branch of a schema (itself, or the string member of an anyOf), if any. */
export function stringSchemaOf(schema: JsonSchema): JsonSchema | null {
  if (literalsOf(schema) !== null) return null;
  if (schema.type === "string") return schema;
  return schema.anyOf?.find((branch) => branch.type === "string" && literalsOf(branch) === null) ?? null;
}

export function isNullable(schema: JsonSchema): boolean {
  return typesOf(schema).includes("null");
}
