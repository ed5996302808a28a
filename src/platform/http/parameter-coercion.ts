/**
 * Query strings and path parameters arrive as text. Validation runs with type coercion off (so
 * that a JSON body's `"5"` is not an integer), which would make every numeric or boolean query
 * parameter invalid; this converts exactly those, by their schema, before validation. Text that
 * does not spell a value of the wanted type is left alone, so validation reports it.
 */
import type { FastifyInstance, FastifyRequest, preValidationHookHandler } from "fastify";
import { booleanOf } from "../config/boolean-text.js";

interface PropertySchema {
  readonly type?: string | readonly string[];
  readonly items?: PropertySchema;
  readonly anyOf?: readonly PropertySchema[];
}

const INTEGER = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function typesOf(schema: PropertySchema): string[] {
  const own = schema.type === undefined ? [] : Array.isArray(schema.type) ? [...schema.type] : [schema.type as string];
  return [...own, ...(schema.anyOf ?? []).flatMap(typesOf)];
}

function convert(value: unknown, schema: PropertySchema): unknown {
  if (Array.isArray(value)) return schema.items ? value.map((item) => convert(item, schema.items as PropertySchema)) : value;
  if (typeof value !== "string") return value;
  const types = typesOf(schema);
  if (types.includes("string")) return value;
  const text = value.trim();
  if (types.includes("integer") && INTEGER.test(text)) return Number(text);
  if (types.includes("number") && NUMBER.test(text)) return Number(text);
  const bool = types.includes("boolean") ? booleanOf(text) : null;
  if (bool !== null) return bool;
  if (types.includes("array") && schema.items) return [convert(value, schema.items)];
  return value;
}

function convertAll(values: unknown, schema: unknown): unknown {
  const properties = (schema as { properties?: Record<string, PropertySchema> } | undefined)?.properties;
  if (properties === undefined || values === null || typeof values !== "object") return values;
  const converted: Record<string, unknown> = { ...(values as Record<string, unknown>) };
  for (const [name, property] of Object.entries(properties)) {
    if (name in converted) converted[name] = convert(converted[name], property);
  }
  return converted;
}

/** The parameters as they arrived, for validation errors: pydantic reports the text it was given. */
const received = new WeakMap<FastifyRequest, { query: unknown; params: unknown }>();

export function receivedParameters(request: FastifyRequest): { query: unknown; params: unknown } {
  return received.get(request) ?? { query: request.query, params: request.params };
}

/** Adds the conversion to the routes that declare a query string or path parameters, and only those. */
export function installParameterCoercion(server: FastifyInstance): void {
  server.addHook("onRoute", (route) => {
    const schema = route.schema as { querystring?: unknown; params?: unknown } | undefined;
    const querystring = schema?.querystring;
    const params = schema?.params;
    if (querystring === undefined && params === undefined) return;
    const convert: preValidationHookHandler = (request, _reply, done) => {
      received.set(request, { query: request.query, params: request.params });
      if (querystring !== undefined) request.query = convertAll(request.query, querystring);
      if (params !== undefined) request.params = convertAll(request.params, params);
      done();
    };
    const own = route.preValidation;
    // First, so that validation (and the route's own hooks) see the converted values.
    route.preValidation = own === undefined ? [convert] : [convert, ...(Array.isArray(own) ? own : [own])];
  });
}
