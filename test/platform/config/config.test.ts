import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseConnectionString } from "pg-connection-string";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, withoutPassword } from "../../../src/platform/config/config.js";

/** The error loadConfig throws for `env`, or a description of what it did instead. */
function failureOf(env: Record<string, string>): ConfigError | string {
  try {
    loadConfig(env);
    return "accepted";
  } catch (error) {
    return error instanceof ConfigError ? error : `unexpected ${String(error)}`;
  }
}

describe("configuration defaults", () => {
  it("runs embedded with no configuration at all", () => {
    expect(loadConfig({})).toEqual({
      production: false,
      graphName: "kartograph_graph",
      host: "127.0.0.1",
      port: 8000,
      logLevel: "info",
      corsOrigins: [],
      database: { url: null, readUrl: null, poolMax: 10, sslMode: "prefer", dataDir: "./data", pgliteCacheMb: 32 },
      spicedb: { endpoint: null, presharedKey: "", useTls: true, certPath: null },
      oidc: {
        issuerUrl: null,
        clientId: "kartograph-api",
        audience: "kartograph-api",
        userIdClaim: "sub",
        usernameClaim: "preferred_username",
      },
      iam: { singleTenantMode: true, defaultTenantName: "default", defaultWorkspaceName: null, bootstrapAdminUsernames: [], firstJoinerBecomesAdmin: true },
      outbox: { enabled: true, pollIntervalSeconds: 30, batchSize: 100, maxRetries: 5, retentionHours: 168 },
      authFailures: { limit: 100, windowSeconds: 60, exemptLoopback: false },
      audit: { retentionDays: 365 },
      trustProxy: false,
    });
  });

  it("treats empty and blank variables as unset", () => {
    expect(loadConfig({ PORT: "", LOG_LEVEL: "  ", KARTOGRAPH_DB_URL: "" })).toEqual(loadConfig({}));
  });

  it("reads every variable when it is set", () => {
    const config = loadConfig({
      NODE_ENV: "production",
      KARTOGRAPH_DB_GRAPH_NAME: "g",
      HOST: "0.0.0.0",
      PORT: "9000",
      LOG_LEVEL: "WARN",
      KARTOGRAPH_CORS_ORIGINS: '["https://ui.example.com", "http://localhost:3000"]',
      KARTOGRAPH_DB_URL: "postgresql://app:pw@db:5432/iam",
      KARTOGRAPH_DB_READ_URL: "postgres://app:pw@replica:5432/iam",
      KARTOGRAPH_DB_POOL_MAX_CONNECTIONS: "25",
      KARTOGRAPH_DB_SSL_MODE: "verify-full",
      KARTOGRAPH_DATA_DIR: "/var/lib/iam",
      SPICEDB_ENDPOINT: "spicedb:50051",
      SPICEDB_PRESHARED_KEY: "key",
      SPICEDB_USE_TLS: "false",
      SPICEDB_CERT_PATH: "/etc/ca.pem",
      KARTOGRAPH_OIDC_ISSUER_URL: "https://idp.example.com/realms/k/",
      KARTOGRAPH_OIDC_CLIENT_ID: "ui",
      KARTOGRAPH_OIDC_AUDIENCE: "api",
      KARTOGRAPH_OIDC_USER_ID_CLAIM: "oid",
      KARTOGRAPH_OIDC_USERNAME_CLAIM: "email",
      KARTOGRAPH_IAM_SINGLE_TENANT_MODE: "no",
      KARTOGRAPH_IAM_DEFAULT_TENANT_NAME: "acme",
      KARTOGRAPH_IAM_DEFAULT_WORKSPACE_NAME: "Root",
      KARTOGRAPH_IAM_BOOTSTRAP_ADMIN_USERNAMES: "alice, bob",
      KARTOGRAPH_OUTBOX_ENABLED: "0",
      KARTOGRAPH_OUTBOX_POLL_INTERVAL_SECONDS: "5",
      KARTOGRAPH_OUTBOX_BATCH_SIZE: "10",
      KARTOGRAPH_OUTBOX_MAX_RETRIES: "3",
      KARTOGRAPH_OUTBOX_RETENTION_HOURS: "0",
      KARTOGRAPH_PGLITE_CACHE_MB: "64",
      KARTOGRAPH_AUTH_FAILURE_LIMIT: "0",
      KARTOGRAPH_AUTH_FAILURE_WINDOW_SECONDS: "600",
      KARTOGRAPH_AUTH_FAILURE_LIMIT_EXEMPT_LOOPBACK: "yes",
      KARTOGRAPH_AUDIT_RETENTION_DAYS: "0",
      KARTOGRAPH_TRUST_PROXY: "10.0.0.0/8, 127.0.0.1",
    });
    expect(config).toEqual({
      production: true,
      graphName: "g",
      host: "0.0.0.0",
      port: 9000,
      logLevel: "warn",
      corsOrigins: ["https://ui.example.com", "http://localhost:3000"],
      database: {
        url: "postgresql://app:pw@db:5432/iam",
        readUrl: "postgres://app:pw@replica:5432/iam",
        poolMax: 25,
        sslMode: "verify-full",
        dataDir: "/var/lib/iam",
        pgliteCacheMb: 64,
      },
      spicedb: { endpoint: "spicedb:50051", presharedKey: "key", useTls: false, certPath: "/etc/ca.pem" },
      oidc: {
        issuerUrl: "https://idp.example.com/realms/k",
        clientId: "ui",
        audience: "api",
        userIdClaim: "oid",
        usernameClaim: "email",
      },
      iam: { singleTenantMode: false, defaultTenantName: "acme", defaultWorkspaceName: "Root", bootstrapAdminUsernames: ["alice", "bob"], firstJoinerBecomesAdmin: false },
      outbox: { enabled: false, pollIntervalSeconds: 5, batchSize: 10, maxRetries: 3, retentionHours: 0 },
      authFailures: { limit: 0, windowSeconds: 600, exemptLoopback: true },
      audit: { retentionDays: 0 },
      trustProxy: ["10.0.0.0/8", "127.0.0.1"],
    });
  });

  it("takes the OIDC audience from the client id when no audience is set", () => {
    expect(loadConfig({ KARTOGRAPH_OIDC_CLIENT_ID: "ui" }).oidc.audience).toBe("ui");
  });
});

describe("database settings in the reference's separate variables", () => {
  const urlOf = (env: Record<string, string>) => loadConfig(env).database.url ?? "";

  it("assembles a connection string with the reference's defaults", () => {
    expect(parseConnectionString(urlOf({ KARTOGRAPH_DB_HOST: "db" }))).toMatchObject({
      host: "db",
      port: "5432",
      database: "kartograph",
      user: "kartograph",
      password: "",
    });
  });

  it("keeps passwords and names with URL-special characters intact", () => {
    const parsed = parseConnectionString(
      urlOf({
        KARTOGRAPH_DB_HOST: "db.internal",
        KARTOGRAPH_DB_PORT: "6543",
        KARTOGRAPH_DB_DATABASE: "iam db",
        KARTOGRAPH_DB_USERNAME: "app@corp",
        KARTOGRAPH_DB_PASSWORD: "p@ss:w/rd% #?&",
      }),
    );
    expect(parsed).toMatchObject({ host: "db.internal", port: "6543", database: "iam db", user: "app@corp", password: "p@ss:w/rd% #?&" });
  });

  it("accepts an IPv6 address and a Unix socket directory as the host", () => {
    expect(parseConnectionString(urlOf({ KARTOGRAPH_DB_HOST: "::1" })).host).toBe("::1");
    expect(parseConnectionString(urlOf({ KARTOGRAPH_DB_HOST: "/var/run/postgresql" })).host).toBe("/var/run/postgresql");
  });

  it("prefers KARTOGRAPH_DB_URL over the separate variables", () => {
    expect(urlOf({ KARTOGRAPH_DB_URL: "postgresql://a@b/c", KARTOGRAPH_DB_HOST: "other" })).toBe("postgresql://a@b/c");
  });
});

const LONG_TENANT = "t".repeat(256);
const LONG_WORKSPACE = "w".repeat(513);

/** [variable that must be named, environment, ...]: each must stop loadConfig. */
const BAD_VALUES: readonly [string, Record<string, string>][] = [
  ["PORT", { PORT: "http" }],
  ["PORT", { PORT: "-1" }],
  ["PORT", { PORT: "65536" }],
  ["PORT", { PORT: "80.5" }],
  ["LOG_LEVEL", { LOG_LEVEL: "verbose" }],
  ["KARTOGRAPH_CORS_ORIGINS", { KARTOGRAPH_CORS_ORIGINS: "*" }],
  ["KARTOGRAPH_CORS_ORIGINS", { KARTOGRAPH_CORS_ORIGINS: "ui.example.com" }],
  ["KARTOGRAPH_CORS_ORIGINS", { KARTOGRAPH_CORS_ORIGINS: "https://ui.example.com/path" }],
  ["KARTOGRAPH_CORS_ORIGINS", { KARTOGRAPH_CORS_ORIGINS: '["https://a.example.com", 1]' }],
  ["KARTOGRAPH_CORS_ORIGINS", { KARTOGRAPH_CORS_ORIGINS: "[broken" }],
  ["KARTOGRAPH_DB_SSL_MODE", { KARTOGRAPH_DB_SSL_MODE: "sometimes" }],
  ["KARTOGRAPH_DB_POOL_MAX_CONNECTIONS", { KARTOGRAPH_DB_POOL_MAX_CONNECTIONS: "0" }],
  ["KARTOGRAPH_DB_POOL_MAX_CONNECTIONS", { KARTOGRAPH_DB_POOL_MAX_CONNECTIONS: "many" }],
  ["KARTOGRAPH_DB_POOL_MAX_CONNECTIONS", { KARTOGRAPH_DB_POOL_MAX_CONNECTIONS: "101" }],
  ["KARTOGRAPH_DB_PORT", { KARTOGRAPH_DB_PORT: "70000" }],
  ["KARTOGRAPH_DB_PORT", { KARTOGRAPH_DB_HOST: "db", KARTOGRAPH_DB_PORT: "five" }],
  ["KARTOGRAPH_DB_URL", { KARTOGRAPH_DB_URL: "mysql://db/iam" }],
  ["KARTOGRAPH_DB_URL", { KARTOGRAPH_DB_URL: "not a url" }],
  ["KARTOGRAPH_DB_HOST", { KARTOGRAPH_DB_HOST: "my host" }],
  ["KARTOGRAPH_DB_HOST", { KARTOGRAPH_DB_HOST: "db/iam" }],
  ["KARTOGRAPH_DB_READ_URL", { KARTOGRAPH_DB_READ_URL: "postgresql://replica/iam" }],
  ["KARTOGRAPH_DB_READ_URL", { KARTOGRAPH_DB_URL: "postgresql://db/iam", KARTOGRAPH_DB_READ_URL: "http://replica" }],
  ["SPICEDB_ENDPOINT", { SPICEDB_ENDPOINT: "spicedb" }],
  ["SPICEDB_ENDPOINT", { SPICEDB_ENDPOINT: "grpc://spicedb:50051" }],
  ["SPICEDB_ENDPOINT", { SPICEDB_ENDPOINT: "spicedb:99999" }],
  ["SPICEDB_USE_TLS", { SPICEDB_USE_TLS: "maybe" }],
  ["KARTOGRAPH_OIDC_ISSUER_URL", { KARTOGRAPH_OIDC_ISSUER_URL: "ftp://idp.example.com" }],
  ["KARTOGRAPH_OIDC_ISSUER_URL", { KARTOGRAPH_OIDC_ISSUER_URL: "idp.example.com" }],
  ["KARTOGRAPH_OIDC_ISSUER_URL", { NODE_ENV: "production" }],
  ["KARTOGRAPH_IAM_SINGLE_TENANT_MODE", { KARTOGRAPH_IAM_SINGLE_TENANT_MODE: "perhaps" }],
  ["KARTOGRAPH_IAM_DEFAULT_TENANT_NAME", { KARTOGRAPH_IAM_DEFAULT_TENANT_NAME: LONG_TENANT }],
  ["KARTOGRAPH_IAM_DEFAULT_WORKSPACE_NAME", { KARTOGRAPH_IAM_DEFAULT_WORKSPACE_NAME: LONG_WORKSPACE }],
  ["KARTOGRAPH_IAM_BOOTSTRAP_ADMIN_USERNAMES", { KARTOGRAPH_IAM_BOOTSTRAP_ADMIN_USERNAMES: '["alice", 3]' }],
  ["KARTOGRAPH_OUTBOX_ENABLED", { KARTOGRAPH_OUTBOX_ENABLED: "sure" }],
  ["KARTOGRAPH_OUTBOX_POLL_INTERVAL_SECONDS", { KARTOGRAPH_OUTBOX_POLL_INTERVAL_SECONDS: "0" }],
  ["KARTOGRAPH_OUTBOX_POLL_INTERVAL_SECONDS", { KARTOGRAPH_OUTBOX_POLL_INTERVAL_SECONDS: "3601" }],
  ["KARTOGRAPH_OUTBOX_BATCH_SIZE", { KARTOGRAPH_OUTBOX_BATCH_SIZE: "0" }],
  ["KARTOGRAPH_OUTBOX_MAX_RETRIES", { KARTOGRAPH_OUTBOX_MAX_RETRIES: "-1" }],
  ["KARTOGRAPH_OUTBOX_RETENTION_HOURS", { KARTOGRAPH_OUTBOX_RETENTION_HOURS: "-1" }],
  ["KARTOGRAPH_OUTBOX_RETENTION_HOURS", { KARTOGRAPH_OUTBOX_RETENTION_HOURS: "a week" }],
  ["KARTOGRAPH_PGLITE_CACHE_MB", { KARTOGRAPH_PGLITE_CACHE_MB: "4" }],
  ["KARTOGRAPH_PGLITE_CACHE_MB", { KARTOGRAPH_PGLITE_CACHE_MB: "32MB" }],
  ["KARTOGRAPH_AUTH_FAILURE_LIMIT", { KARTOGRAPH_AUTH_FAILURE_LIMIT: "-1" }],
  ["KARTOGRAPH_AUTH_FAILURE_LIMIT", { KARTOGRAPH_AUTH_FAILURE_LIMIT: "lots" }],
  ["KARTOGRAPH_AUTH_FAILURE_WINDOW_SECONDS", { KARTOGRAPH_AUTH_FAILURE_WINDOW_SECONDS: "0" }],
  ["KARTOGRAPH_AUTH_FAILURE_LIMIT_EXEMPT_LOOPBACK", { KARTOGRAPH_AUTH_FAILURE_LIMIT_EXEMPT_LOOPBACK: "maybe" }],
  ["KARTOGRAPH_AUDIT_RETENTION_DAYS", { KARTOGRAPH_AUDIT_RETENTION_DAYS: "-1" }],
  ["KARTOGRAPH_AUDIT_RETENTION_DAYS", { KARTOGRAPH_AUDIT_RETENTION_DAYS: "a year" }],
  ["KARTOGRAPH_TRUST_PROXY", { KARTOGRAPH_TRUST_PROXY: "the load balancer" }],
  ["KARTOGRAPH_TRUST_PROXY", { KARTOGRAPH_TRUST_PROXY: "101" }],
];

/** Variables whose every value is acceptable to the configuration (checked later, or free text). */
const FREE_TEXT = [
  "NODE_ENV",
  "HOST",
  "KARTOGRAPH_DB_GRAPH_NAME",
  "KARTOGRAPH_DB_DATABASE",
  "KARTOGRAPH_DB_USERNAME",
  "KARTOGRAPH_DB_PASSWORD",
  // Writability is checked when the database opens (the CLI test covers it).
  "KARTOGRAPH_DATA_DIR",
  "SPICEDB_PRESHARED_KEY",
  // Readability is checked when SpiceDB starts.
  "SPICEDB_CERT_PATH",
  "KARTOGRAPH_OIDC_CLIENT_ID",
  "KARTOGRAPH_OIDC_AUDIENCE",
  "KARTOGRAPH_OIDC_USER_ID_CLAIM",
  "KARTOGRAPH_OIDC_USERNAME_CLAIM",
];

describe("bad configuration", () => {
  it.each(BAD_VALUES)("stops with a message naming %s (%j)", (variable, env) => {
    const failure = failureOf(env);
    expect(failure).toBeInstanceOf(ConfigError);
    const error = failure as ConfigError;
    expect(error.variable).toBe(variable);
    expect(error.message.startsWith(`${variable} `)).toBe(true);
    expect(error.message).not.toContain("\n");
  });

  it("never repeats a password from a rejected connection string", () => {
    const failure = failureOf({ KARTOGRAPH_DB_URL: "mysql://app:hunter2@db/iam" });
    expect(String((failure as Error).message)).not.toContain("hunter2");
    expect(String((failure as Error).message)).toContain("app:***@db");
    expect(withoutPassword("postgresql://app:s3cret@db:5432/iam")).toBe("postgresql://app:***@db:5432/iam");
    expect(withoutPassword("postgresql://db/iam")).toBe("postgresql://db/iam");
  });

  it("covers every variable config.ts reads, each with a bad value or listed as free text", () => {
    const source = readFileSync(join(import.meta.dirname, "../../../src/platform/config/config.ts"), "utf8");
    const read = new Set(
      [...source.matchAll(/"((?:KARTOGRAPH|SPICEDB)_[A-Z_]+|HOST|PORT|LOG_LEVEL|NODE_ENV)"/g)].map((m) => m[1] ?? ""),
    );
    const covered = new Set([...BAD_VALUES.map(([variable]) => variable), ...FREE_TEXT]);
    expect([...read].filter((variable) => !covered.has(variable))).toEqual([]);
    expect(read.size).toBeGreaterThan(25);
  });
});

describe("boolean settings", () => {
  const BOOLEANS: [string, (env: Record<string, string>) => boolean][] = [
    ["SPICEDB_USE_TLS", (env) => loadConfig(env).spicedb.useTls],
    ["KARTOGRAPH_IAM_SINGLE_TENANT_MODE", (env) => loadConfig(env).iam.singleTenantMode],
    ["KARTOGRAPH_OUTBOX_ENABLED", (env) => loadConfig(env).outbox.enabled],
    ["KARTOGRAPH_AUTH_FAILURE_LIMIT_EXEMPT_LOOPBACK", (env) => loadConfig(env).authFailures.exemptLoopback],
  ];
  // pydantic's bool, which the reference's settings use.
  const SPELLINGS: [string, boolean][] = [
    ...["true", "1", "yes", "on", "t", "y"].map((text): [string, boolean] => [text, true]),
    ...["false", "0", "no", "off", "f", "n"].map((text): [string, boolean] => [text, false]),
  ];

  it.each(BOOLEANS)("%s accepts exactly the reference's spellings, in any case", (variable, read) => {
    for (const [text, value] of SPELLINGS) {
      for (const spelt of [text, text.toUpperCase(), ` ${text[0]?.toUpperCase()}${text.slice(1)} `]) {
        expect(read({ [variable]: spelt }), spelt).toBe(value);
      }
    }
  });

  it.each(BOOLEANS)("%s stops start-up on anything else, saying what it accepts", (variable) => {
    for (const text of ["maybe", "2", "-1", "1.0", "yess", "tru", "nope", "enabled", "null", "none", "oui"]) {
      const failure = failureOf({ [variable]: text });
      expect(failure, text).toBeInstanceOf(ConfigError);
      expect((failure as ConfigError).message).toBe(
        `${variable} must be true or false (also 1/0, yes/no, on/off, t/f, y/n, in any case) (got ${JSON.stringify(text)})`,
      );
    }
  });
});
