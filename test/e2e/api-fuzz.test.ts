/**
 * A generator over the whole API: the service's own /openapi.json drives fast-check, which sends
 * every operation requests at the schema's edges and past them (see test/support/fuzz), as a
 * tenant admin, a plain member, an API key, an outsider and callers with bad credentials, in
 * multi- and single-tenant mode, on every test database. Whatever it sends: no 5xx, every 4xx is
 * JSON with `detail`, no body shows internals, a refused write changes no table, a request that
 * breaks the published schema is never a success, and the service is healthy afterwards.
 *
 *   KARTOGRAPH_FUZZ_SEED=123 KARTOGRAPH_FUZZ_RUNS=1000 npx vitest run test/e2e/api-fuzz.test.ts
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { changedTables, iamSnapshot, walPosition, type IamSnapshot } from "../support/fuzz/iam-snapshot.js";
import { operationsOf, stringSchemaOf, type JsonSchema, type OpenApiDocument, type Operation } from "../support/fuzz/openapi-operations.js";
import {
  requestCases,
  type Body,
  type CallerName,
  type FromPool,
  type PoolName,
  type RawJson,
  type RequestCase,
  type UrlValue,
} from "../support/fuzz/request-cases.js";
import { problemsOf } from "../support/fuzz/response-oracle.js";
import { TEST_DATABASE_KINDS } from "../support/test-database.js";
import { startTestStack, type TestStack } from "../support/test-stack.js";

const SEED = Number(process.env["KARTOGRAPH_FUZZ_SEED"] ?? Math.floor(Math.random() * 2 ** 31));
const RUNS = Number(process.env["KARTOGRAPH_FUZZ_RUNS"] ?? 200);
const MODES = ["multi-tenant", "single-tenant"] as const;

type Json = Record<string, unknown>;
type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

interface Finding {
  readonly operation: string;
  readonly problem: string;
  readonly example: string;
  count: number;
}

/** Credentials that must all fail: none, garbage, an unknown key, a token for someone else. */
const STRANGER_HEADERS = (expired: string, foreignAudience: string): Record<string, string>[] => [
  {},
  { authorization: "Bearer not-a-token" },
  { authorization: "Bearer " },
  { authorization: `Bearer ${expired}` },
  { authorization: `Bearer ${foreignAudience}` },
  { "x-api-key": "karto_short" },
  { "x-api-key": `karto_${"A".repeat(43)}` },
  { authorization: "Basic YWxpY2U6c2VjcmV0" },
];

describe.each(TEST_DATABASE_KINDS.flatMap((kind) => MODES.map((mode) => [kind, mode] as const)))(
  "the whole API under generated requests on %s, %s",
  (kind, mode) => {
    const multi = mode === "multi-tenant";
    let stack: TestStack;
    let operations: Operation[];
    const headersOf = new Map<CallerName, Record<string, string>>();
    let strangers: Record<string, string>[] = [];
    const pools: Record<PoolName, string[]> = {
      tenant: [],
      deletableTenant: [],
      workspace: [],
      deletableWorkspace: [],
      group: [],
      deletableGroup: [],
      apiKey: [],
      user: [],
      removableUser: [],
      member: [],
      email: [],
    };
    let acme = "";
    let beta = "";

    const send = async (method: Method, url: string, headers: Record<string, string>, body?: Body) => {
      const payload =
        body === undefined || body.kind === "none"
          ? {}
          : body.kind === "json"
            ? { payload: serialise(body.value), headers: { ...headers, "content-type": "application/json" } }
            : { payload: body.text, headers: { ...headers, "content-type": body.contentType } };
      const response = await stack.app.server.inject({ method, url, headers, ...payload });
      return { statusCode: response.statusCode, headers: response.headers, body: response.body };
    };
    const call = async (caller: CallerName, method: Method, url: string, value?: unknown) => {
      const answer = await send(method, url, headersOf.get(caller) ?? {}, value === undefined ? undefined : { kind: "json", value });
      return { status: answer.statusCode, body: (answer.body === "" ? null : JSON.parse(answer.body)) as Json };
    };
    const created = async (caller: CallerName, url: string, value: unknown) => {
      const response = await call(caller, "POST", url, value);
      expect(response.status, `${url} ${JSON.stringify(response.body)}`).toBe(201);
      return String(response.body["id"]);
    };

    const isMarker = (value: unknown, marker: "$pool" | "$raw"): boolean =>
      value !== null && typeof value === "object" && !Array.isArray(value) && marker in value;
    const fromPool = (ref: FromPool): string => {
      const pool = pools[ref.$pool];
      const value = pool[ref.pick % pool.length] ?? "";
      const dressed = ref.upper ? value.toUpperCase() : value;
      return ref.pad ? `${ref.pad}${dressed}${ref.pad}` : dressed;
    };
    /** A field's JSON: pool placeholders resolved, raw JSON spliced in as it is. */
    const fieldJson = (value: unknown): string => {
      if (isMarker(value, "$raw")) return (value as RawJson).$raw;
      return JSON.stringify(isMarker(value, "$pool") ? fromPool(value as FromPool) : value);
    };
    /** The body's JSON text (placeholders sit in top-level fields only). */
    const serialise = (value: unknown): string => {
      if (value === null || typeof value !== "object" || Array.isArray(value) || isMarker(value, "$pool") || isMarker(value, "$raw")) {
        return fieldJson(value);
      }
      return `{${Object.entries(value).map(([key, item]) => `${JSON.stringify(key)}:${fieldJson(item)}`).join(",")}}`;
    };
    const describeBody = (body: Body): string => {
      if (body.kind === "none") return "none";
      const text = body.kind === "raw" ? `${body.contentType} ${body.text}` : serialise(body.value);
      return text.length > 200 ? `${text.slice(0, 200)}...(${text.length} chars)` : text;
    };
    const urlText = (value: UrlValue): string => {
      if ("encoded" in value) return value.encoded;
      if ("list" in value) return value.list.map((ref) => encodeURIComponent(fromPool(ref))).join(",");
      return encodeURIComponent(typeof value.text === "string" ? value.text : fromPool(value.text));
    };

    beforeAll(async () => {
      stack = await startTestStack(kind, {
        env: {
          KARTOGRAPH_IAM_SINGLE_TENANT_MODE: multi ? "false" : "true",
          KARTOGRAPH_IAM_BOOTSTRAP_ADMIN_USERNAMES: '["fz-admin"]',
          // Every generated request comes from 127.0.0.1; failed authentications are part of the run.
          KARTOGRAPH_AUTH_FAILURE_LIMIT_EXEMPT_LOOPBACK: "true",
        },
      });
      const { identity } = stack;
      const bearer = async (user: string) => ({
        authorization: `Bearer ${await identity.tokenFor(user, { name: `Fuzz ${user}`, email: `${user}@example.com` }, { expiresIn: 3600 })}`,
      });
      const admin = (await bearer("fz-admin")).authorization;
      const signIn = async (user: string, tenant: string | null) => {
        const headers: Record<string, string> = await bearer(user);
        if (tenant !== null) headers["x-tenant-id"] = tenant;
        const answer = await send("GET", multi ? "/iam/tenants" : "/iam/workspaces", headers);
        expect(answer.statusCode, answer.body).toBe(200);
      };
      for (const user of ["fz-admin", "fz-member", "fz-outsider", "fz-extra-1", "fz-extra-2", "fz-extra-3"]) await signIn(user, null);

      headersOf.set("admin", { authorization: admin });
      if (multi) {
        acme = await created("admin", "/iam/tenants", { name: "fz-acme" });
        headersOf.set("admin", { authorization: admin, "x-tenant-id": acme });
        headersOf.set("outsider", await bearer("fz-outsider"));
        beta = await created("outsider", "/iam/tenants", { name: "fz-beta" });
        headersOf.set("outsider", { ...(await bearer("fz-outsider")), "x-tenant-id": beta });
        for (const user of ["fz-member", "fz-extra-1", "fz-extra-2", "fz-extra-3"]) {
          expect((await call("admin", "POST", `/iam/tenants/${acme}/members`, { user_id: user, role: "member" })).status).toBe(201);
        }
        headersOf.set("member", { ...(await bearer("fz-member")), "x-tenant-id": acme });
        pools.deletableTenant.push(await created("admin", "/iam/tenants", { name: "fz-spare" }));
      } else {
        const tenants = await call("admin", "GET", "/iam/tenants");
        acme = String((tenants.body as unknown as Json[])[0]?.["id"]);
        headersOf.set("member", await bearer("fz-member"));
        // Single-tenant: everyone is a member of the default tenant; the outsider holds no role.
        headersOf.set("outsider", await bearer("fz-outsider"));
      }
      const workspaces = await call("admin", "GET", "/iam/workspaces");
      const root = String(((workspaces.body["workspaces"] as Json[])[0] ?? {})["id"]);
      const seedWorkspace = await created("admin", "/iam/workspaces", { name: "fz-seed", parent_workspace_id: root });
      const spareWorkspace = await created("admin", "/iam/workspaces", { name: "fz-spare", parent_workspace_id: root });
      expect((await call("admin", "POST", `/iam/workspaces/${seedWorkspace}/members`, { member_id: "fz-member", member_type: "user", role: "editor" })).status).toBe(201);
      const seedGroup = await created("admin", "/iam/groups", { name: "fz-seed" });
      const spareGroup = await created("admin", "/iam/groups", { name: "fz-spare" });
      for (const user of ["fz-member", "fz-extra-1", "fz-extra-2"]) {
        expect((await call("admin", "POST", `/iam/groups/${seedGroup}/members`, { user_id: user, role: "member" })).status).toBe(201);
      }
      for (const member of ["fz-extra-1", "fz-extra-3"]) {
        const body = { member_id: member, member_type: "user", role: "member" };
        expect((await call("admin", "POST", `/iam/workspaces/${seedWorkspace}/members`, body)).status).toBe(201);
      }
      const groupGrant = { member_id: seedGroup, member_type: "group", role: "editor" };
      expect((await call("admin", "POST", `/iam/workspaces/${seedWorkspace}/members`, groupGrant)).status).toBe(201);
      const key = await call("admin", "POST", "/iam/api-keys", { name: "fz-caller" });
      expect(key.status).toBe(201);
      headersOf.set("apiKey", { "x-api-key": String(key.body["secret"]) });
      const spareKey = await created("admin", "/iam/api-keys", { name: "fz-spare" });

      pools.tenant.push(acme, ...(multi ? [beta] : []), ...pools.deletableTenant);
      pools.workspace.push(root, seedWorkspace, spareWorkspace);
      pools.deletableWorkspace.push(spareWorkspace);
      if (multi) {
        const foreign = await send("GET", "/iam/workspaces", headersOf.get("outsider") ?? {});
        pools.workspace.push(String(((JSON.parse(foreign.body) as Json)["workspaces"] as Json[])[0]?.["id"]));
      }
      pools.group.push(seedGroup, spareGroup);
      pools.deletableGroup.push(spareGroup);
      pools.apiKey.push(spareKey);
      pools.user.push("fz-extra-1", "fz-extra-2", "fz-extra-3", "fz-ghost");
      pools.removableUser.push("fz-extra-3", "fz-ghost");
      pools.member.push(...pools.user, seedGroup, spareGroup);
      pools.email.push("fz-extra-1@example.com", "fz-extra-2@example.com", "nobody@example.com");

      strangers = STRANGER_HEADERS(
        await identity.tokenFor("fz-admin", {}, { expiresIn: -60 }),
        await identity.tokenFor("fz-admin", {}, { audience: "someone-else" }),
      );
      const document = (await send("GET", "/openapi.json", {})).body;
      operations = operationsOf(JSON.parse(document) as OpenApiDocument);
      console.log(`api fuzz on ${kind}, ${mode}: seed ${SEED}, ${RUNS} cases per operation (KARTOGRAPH_FUZZ_SEED / KARTOGRAPH_FUZZ_RUNS)`);
    });
    afterAll(() => stack?.close());

    const headersFor = (request: RequestCase, index: number): Record<string, string> => {
      if (request.caller === "stranger") return { ...(strangers[index % strangers.length] ?? {}) };
      const headers = { ...(headersOf.get(request.caller) ?? {}) };
      if (request.tenantHeader === "none") delete headers["x-tenant-id"];
      if (request.tenantHeader === "malformed") headers["x-tenant-id"] = index % 2 === 0 ? "not-a-ulid" : "";
      if (request.tenantHeader === "unknown") headers["x-tenant-id"] = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
      return headers;
    };

    const urlOf = (operation: Operation, request: RequestCase): string => {
      const path = operation.path.replace(/\{(\w+)\}/g, (_, name: string) => {
        const value = request.path[name];
        return value === undefined ? "" : urlText(value);
      });
      const query = request.query.map(([name, value]) => `${encodeURIComponent(name)}=${urlText(value)}`).join("&");
      return query === "" ? path : `${path}?${query}`;
    };

    /** Keeps the pools in step with what the run created and deleted. */
    const track = (operation: Operation, request: RequestCase, status: number, body: string) => {
      if (status === 201 && operation.method === "POST") {
        const id = String((JSON.parse(body) as Json)["id"] ?? "");
        const created: Partial<Record<string, PoolName[]>> = {
          "/iam/tenants": ["tenant", "deletableTenant"],
          "/iam/workspaces": ["workspace", "deletableWorkspace"],
          "/iam/groups": ["group", "deletableGroup", "member"],
          "/iam/api-keys": ["apiKey"],
        };
        for (const pool of created[operation.path] ?? []) if (id !== "") pools[pool].push(id);
      }
      if (status === 204 && operation.method === "DELETE" && /\}$/.test(operation.path) && !operation.path.includes("/members/")) {
        const value = Object.values(request.path)[0];
        const id = value && "text" in value && typeof value.text !== "string" ? fromPool(value.text) : null;
        if (id !== null) for (const pool of Object.values(pools)) if (pool.includes(id.toUpperCase())) pool.splice(pool.indexOf(id.toUpperCase()), 1);
      }
    };

    it(
      "never answers 5xx, leaks nothing, and refused writes change nothing",
      async () => {
        const started = performance.now();
        const findings = new Map<string, Finding>();
        const statuses = new Map<string, number>();
        let sent = 0;
        const db = stack.database.handle.db;
        let baseline: IamSnapshot = await iamSnapshot(db);
        let baselinePosition = await walPosition(db);
        const note = (operation: string, problem: string, example: string) => {
          const key = `${operation} | ${problem}`;
          const known = findings.get(key);
          if (known) known.count++;
          else findings.set(key, { operation, problem, example, count: 1 });
        };
        for (const [index, operation] of operations.entries()) {
          const name = `${operation.method} ${operation.path}`;
          const cases = fc.sample(requestCases(operation), { seed: SEED + index, numRuns: RUNS });
          for (const [caseIndex, request] of cases.entries()) {
            const url = urlOf(operation, request);
            const answer = await send(operation.method, url, headersFor(request, caseIndex), request.body);
            sent++;
            const statusClass = `${Math.floor(answer.statusCode / 100)}xx`;
            statuses.set(statusClass, (statuses.get(statusClass) ?? 0) + 1);
            const problems = problemsOf(answer);
            if (request.refusal !== null && answer.statusCode < 300) problems.push(`answered ${answer.statusCode} although ${request.refusal}`);
            if (operation.method !== "GET") {
              const position = await walPosition(db);
              if (position !== baselinePosition) {
                const after = await iamSnapshot(db);
                if (answer.statusCode >= 400) {
                  const changed = changedTables(baseline, after);
                  if (changed.length > 0) problems.push(`refused write (${answer.statusCode}) changed ${changed.join(", ")}`);
                }
                baseline = after;
                baselinePosition = await walPosition(db);
              }
            }
            track(operation, request, answer.statusCode, answer.body);
            const example = () =>
              `${request.caller} ${operation.method} ${url.slice(0, 300)} body=${describeBody(request.body)} -> ${answer.statusCode} ${answer.body.slice(0, 300)}`;
            for (const problem of problems) note(name, problem.replace(/answered \d+ although/, "answered 2xx although"), example());
          }
        }
        // Healthy afterwards: ready, and a plain request of each caller still works.
        expect((await send("GET", "/health/ready", {})).statusCode).toBe(200);
        for (const caller of ["admin", "member", "apiKey"] as const) expect((await call(caller, "GET", "/iam/workspaces")).status).toBe(200);

        const seconds = (performance.now() - started) / 1000;
        const lines = [...findings.values()].map((f) => `  ${f.count}x ${f.operation}: ${f.problem}\n      e.g. ${f.example}`);
        console.log(
          `api fuzz on ${kind}, ${mode}: ${sent} requests over ${operations.length} operations in ${seconds.toFixed(1)} s ` +
            `(${[...statuses].map(([c, n]) => `${c} ${n}`).join(", ")}), seed ${SEED}; ${findings.size} finding(s)` +
            (lines.length > 0 ? `\n${lines.join("\n")}` : ""),
        );
        expect(lines, `seed ${SEED} (KARTOGRAPH_FUZZ_SEED=${SEED} reproduces it)`).toEqual([]);
      },
      1_800_000,
    );

    it("publishes a limit for every string a request carries and forbids unknown body fields", () => {
      const gaps: string[] = [];
      const check = (where: string, schema: JsonSchema) => {
        const strings = stringSchemaOf(schema);
        if (strings !== null && strings.maxLength === undefined) gaps.push(`${where}: no maxLength`);
        if (schema.type === "object") {
          if (schema.additionalProperties !== false) gaps.push(`${where}: unknown fields allowed`);
          for (const [field, property] of Object.entries(schema.properties ?? {})) check(`${where}.${field}`, property);
        }
      };
      for (const operation of operations) {
        const name = `${operation.method} ${operation.path}`;
        for (const parameter of [...operation.pathParameters, ...operation.queryParameters]) check(`${name} ${parameter.name}`, parameter.schema);
        if (operation.body !== null) check(`${name} body`, operation.body);
      }
      expect(gaps).toEqual([]);
    });
  },
);

