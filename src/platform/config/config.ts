/**
 * Every setting the service reads, validated in one place. The reference's variable names are
 * kept so that a Kartograph deployment can switch; a bad value stops start-up with one line that
 * names the variable and says what is expected.
 */
import { BOOLEAN_SPELLINGS, booleanOf } from "./boolean-text.js";

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    expected: string,
    got: string,
  ) {
    super(`${variable} ${expected} (got ${JSON.stringify(got)})`);
    this.name = "ConfigError";
  }
}

export type SslMode = "disable" | "allow" | "prefer" | "require" | "verify-ca" | "verify-full";
export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

export interface DatabaseConfig {
  /** Connection string of the write (primary) server, or null for embedded PGlite. */
  readonly url: string | null;
  /** Connection string of a read replica, or null to read from the primary. */
  readonly readUrl: string | null;
  readonly poolMax: number;
  readonly sslMode: SslMode;
  readonly dataDir: string;
  /** PGlite's shared_buffers in MiB: its page cache, and most of the embedded mode's memory. */
  readonly pgliteCacheMb: number;
}

export interface SpiceDbConfig {
  /** host:port of a SpiceDB cluster, or null for the embedded in-process SpiceDB. */
  readonly endpoint: string | null;
  readonly presharedKey: string;
  readonly useTls: boolean;
  readonly certPath: string | null;
}

export interface OidcConfig {
  /** Issuer URL without a trailing slash, or null to use the local development issuer. */
  readonly issuerUrl: string | null;
  readonly clientId: string;
  /** Expected `aud`: KARTOGRAPH_OIDC_AUDIENCE, else the client id. */
  readonly audience: string;
  readonly userIdClaim: string;
  readonly usernameClaim: string;
}

export interface IamConfig {
  readonly singleTenantMode: boolean;
  readonly defaultTenantName: string;
  /** Name of the default tenant's root workspace: the setting, else the tenant name. */
  readonly defaultWorkspaceName: string | null;
  readonly bootstrapAdminUsernames: readonly string[];
  /**
   * The first user to join the empty default tenant becomes its admin. Not a setting: true exactly
   * when the development token issuer is in use (no KARTOGRAPH_OIDC_ISSUER_URL, never in
   * production), where anyone can mint a token for any username anyway, and no bootstrap admins
   * are named.
   */
  readonly firstJoinerBecomesAdmin: boolean;
}

export interface OutboxConfig {
  readonly enabled: boolean;
  readonly pollIntervalSeconds: number;
  readonly batchSize: number;
  readonly maxRetries: number;
  /** Applied entries are deleted after this many hours; 0 keeps them forever. */
  readonly retentionHours: number;
}

export interface AuditConfig {
  /** Audit events are deleted after this many days; 0 keeps them forever. */
  readonly retentionDays: number;
}

/** Per-client limit on failed authentications (bad tokens, unknown keys: every 401). */
export interface AuthFailureLimitConfig {
  /** Failures allowed per client per window; 0 turns the limit off. */
  readonly limit: number;
  readonly windowSeconds: number;
  /** Loopback clients (127.0.0.0/8, ::1) are never limited. */
  readonly exemptLoopback: boolean;
}

export interface AppConfig {
  readonly production: boolean;
  /** Reported as `graph_name` by GET /health/db, as the reference does. */
  readonly graphName: string;
  readonly host: string;
  readonly port: number;
  readonly logLevel: LogLevel;
  readonly corsOrigins: readonly string[];
  readonly database: DatabaseConfig;
  readonly spicedb: SpiceDbConfig;
  readonly oidc: OidcConfig;
  readonly iam: IamConfig;
  readonly outbox: OutboxConfig;
  readonly authFailures: AuthFailureLimitConfig;
  readonly audit: AuditConfig;
  /**
   * Which proxies in front of the service may name the client in X-Forwarded-For (the audit
   * log's client IP and the failed-authentication limit): false (none, the default), true (any),
   * a number of hops, or a list of addresses and CIDR ranges.
   */
  readonly trustProxy: boolean | number | readonly string[];
}

type Env = Readonly<Record<string, string | undefined>>;

/** Reads a variable; empty strings count as unset, like most twelve-factor tooling. */
function raw(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

function str(env: Env, name: string, fallback: string): string {
  return raw(env, name) ?? fallback;
}

function optionalStr(env: Env, name: string): string | null {
  return raw(env, name) ?? null;
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (!/^-?\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new ConfigError(name, `must be a whole number from ${min} to ${max}`, value);
  }
  return Number(value);
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  const parsed = booleanOf(value);
  if (parsed === null) throw new ConfigError(name, `must be ${BOOLEAN_SPELLINGS}`, value);
  return parsed;
}

function oneOf<T extends string>(env: Env, name: string, fallback: T, allowed: readonly T[]): T {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value.toLowerCase())) {
    throw new ConfigError(name, `must be one of ${allowed.join(", ")}`, value);
  }
  return value.toLowerCase() as T;
}

/** A JSON list of strings (the reference's format); a plain comma-separated list is accepted too. */
function stringList(env: Env, name: string): string[] {
  const value = raw(env, name);
  if (value === undefined) return [];
  if (value.startsWith("[")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new ConfigError(name, 'must be a JSON list of strings such as ["a","b"]', value);
    }
    if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === "string")) {
      throw new ConfigError(name, 'must be a JSON list of strings such as ["a","b"]', value);
    }
    return parsed.map((item: string) => item.trim()).filter((item) => item !== "");
  }
  return value
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

/** A connection string as it may be shown: the password replaced, the rest kept for diagnosis. */
export function withoutPassword(value: string): string {
  return value.replace(/(\/\/[^/:@]*:)[^/@]*@/, "$1***@");
}

function url(env: Env, name: string, protocols: readonly string[]): string | null {
  const value = raw(env, name);
  if (value === undefined) return null;
  let parsed: URL | null;
  try {
    parsed = new URL(value);
  } catch {
    parsed = null;
  }
  if (parsed === null || !protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `must be a URL (${protocols.join(" or ")})`, withoutPassword(value));
  }
  return value;
}

/**
 * PostgreSQL's default of 128 MB would be touched in full at every start and make up most of an
 * idle embedded service's memory; 32 MB holds the hot pages of a tenant with 100,000 workspaces,
 * and PGlite's files stay in the operating system's cache behind it.
 */
export const DEFAULT_PGLITE_CACHE_MB = 32;

const POSTGRES_PROTOCOLS = ["postgres:", "postgresql:"] as const;

/**
 * The reference's separate settings assembled into one connection string. Built by hand rather
 * than through URL setters, which silently ignore a host they cannot represent (a socket path, an
 * IPv6 address) and would leave a placeholder in its place.
 */
function connectionString(parts: { host: string; port: number; database: string; username: string; password: string }): string {
  const credentials = `${encodeURIComponent(parts.username)}:${encodeURIComponent(parts.password)}`;
  const database = encodeURIComponent(parts.database);
  if (parts.host.startsWith("/")) {
    // A Unix socket directory, passed the way node-postgres reads it: as the host parameter.
    return `postgresql://${credentials}@localhost:${parts.port}/${database}?host=${encodeURIComponent(parts.host)}`;
  }
  const bare = parts.host.replace(/^\[(.*)\]$/, "$1");
  const hostPart = bare.includes(":") ? `[${bare}]` : bare;
  const assembled = `postgresql://${credentials}@${hostPart}:${parts.port}/${database}`;
  let parsed: URL | null = null;
  try {
    parsed = new URL(assembled);
  } catch {
    parsed = null;
  }
  if (parsed === null || parsed.hostname === "" || /[\s/@?#]/.test(bare)) {
    throw new ConfigError("KARTOGRAPH_DB_HOST", "must be a host name, an IP address or a socket directory", parts.host);
  }
  return assembled;
}

function databaseConfig(env: Env): DatabaseConfig {
  const sslMode = oneOf<SslMode>(env, "KARTOGRAPH_DB_SSL_MODE", "prefer", [
    "disable",
    "allow",
    "prefer",
    "require",
    "verify-ca",
    "verify-full",
  ]);
  const poolMax = int(env, "KARTOGRAPH_DB_POOL_MAX_CONNECTIONS", 10, 1, 100);
  // Validated even when unused, so a typo is reported rather than silently ignored.
  const port = int(env, "KARTOGRAPH_DB_PORT", 5432, 1, 65535);
  let primary = url(env, "KARTOGRAPH_DB_URL", POSTGRES_PROTOCOLS);
  const host = optionalStr(env, "KARTOGRAPH_DB_HOST");
  if (primary === null && host !== null) {
    primary = connectionString({
      host,
      port,
      database: str(env, "KARTOGRAPH_DB_DATABASE", "kartograph"),
      username: str(env, "KARTOGRAPH_DB_USERNAME", "kartograph"),
      password: env["KARTOGRAPH_DB_PASSWORD"] ?? "",
    });
  }
  const readUrl = url(env, "KARTOGRAPH_DB_READ_URL", POSTGRES_PROTOCOLS);
  if (readUrl !== null && primary === null) {
    throw new ConfigError("KARTOGRAPH_DB_READ_URL", "needs KARTOGRAPH_DB_URL or KARTOGRAPH_DB_HOST as well", withoutPassword(readUrl));
  }
  return {
    url: primary,
    readUrl,
    poolMax,
    sslMode,
    dataDir: str(env, "KARTOGRAPH_DATA_DIR", "./data"),
    pgliteCacheMb: int(env, "KARTOGRAPH_PGLITE_CACHE_MB", DEFAULT_PGLITE_CACHE_MB, 8, 4096),
  };
}

function spicedbConfig(env: Env): SpiceDbConfig {
  const endpoint = optionalStr(env, "SPICEDB_ENDPOINT");
  const endpointPort = endpoint === null ? null : /^[^\s:/]+:(\d{1,5})$/.exec(endpoint)?.[1];
  if (endpoint !== null && (endpointPort === undefined || Number(endpointPort) < 1 || Number(endpointPort) > 65535)) {
    throw new ConfigError("SPICEDB_ENDPOINT", "must be host:port, such as spicedb:50051", endpoint);
  }
  return {
    endpoint,
    presharedKey: env["SPICEDB_PRESHARED_KEY"] ?? "",
    useTls: bool(env, "SPICEDB_USE_TLS", true),
    certPath: optionalStr(env, "SPICEDB_CERT_PATH"),
  };
}

function oidcConfig(env: Env): OidcConfig {
  const issuer = url(env, "KARTOGRAPH_OIDC_ISSUER_URL", ["http:", "https:"]);
  const clientId = str(env, "KARTOGRAPH_OIDC_CLIENT_ID", "kartograph-api");
  return {
    issuerUrl: issuer === null ? null : issuer.replace(/\/+$/, ""),
    clientId,
    audience: str(env, "KARTOGRAPH_OIDC_AUDIENCE", clientId),
    userIdClaim: str(env, "KARTOGRAPH_OIDC_USER_ID_CLAIM", "sub"),
    usernameClaim: str(env, "KARTOGRAPH_OIDC_USERNAME_CLAIM", "preferred_username"),
  };
}

function iamConfig(env: Env, developmentIssuer: boolean): IamConfig {
  const defaultTenantName = str(env, "KARTOGRAPH_IAM_DEFAULT_TENANT_NAME", "default");
  if (defaultTenantName.length > 255) {
    throw new ConfigError("KARTOGRAPH_IAM_DEFAULT_TENANT_NAME", "must be at most 255 characters", defaultTenantName);
  }
  const defaultWorkspaceName = optionalStr(env, "KARTOGRAPH_IAM_DEFAULT_WORKSPACE_NAME");
  if (defaultWorkspaceName !== null && defaultWorkspaceName.length > 512) {
    throw new ConfigError("KARTOGRAPH_IAM_DEFAULT_WORKSPACE_NAME", "must be at most 512 characters", defaultWorkspaceName);
  }
  const bootstrapAdminUsernames = stringList(env, "KARTOGRAPH_IAM_BOOTSTRAP_ADMIN_USERNAMES");
  return {
    singleTenantMode: bool(env, "KARTOGRAPH_IAM_SINGLE_TENANT_MODE", true),
    defaultTenantName,
    defaultWorkspaceName,
    bootstrapAdminUsernames,
    // Whoever names the admins has said who they are: the first stranger to sign in must not
    // become one before them.
    firstJoinerBecomesAdmin: developmentIssuer && bootstrapAdminUsernames.length === 0,
  };
}

function outboxConfig(env: Env): OutboxConfig {
  return {
    enabled: bool(env, "KARTOGRAPH_OUTBOX_ENABLED", true),
    pollIntervalSeconds: int(env, "KARTOGRAPH_OUTBOX_POLL_INTERVAL_SECONDS", 30, 1, 3600),
    batchSize: int(env, "KARTOGRAPH_OUTBOX_BATCH_SIZE", 100, 1, 1000),
    maxRetries: int(env, "KARTOGRAPH_OUTBOX_MAX_RETRIES", 5, 1, 100),
    retentionHours: int(env, "KARTOGRAPH_OUTBOX_RETENTION_HOURS", 168, 0, 87_600),
  };
}

function authFailureLimitConfig(env: Env): AuthFailureLimitConfig {
  return {
    limit: int(env, "KARTOGRAPH_AUTH_FAILURE_LIMIT", 100, 0, 1_000_000),
    windowSeconds: int(env, "KARTOGRAPH_AUTH_FAILURE_WINDOW_SECONDS", 60, 1, 86_400),
    exemptLoopback: bool(env, "KARTOGRAPH_AUTH_FAILURE_LIMIT_EXEMPT_LOOPBACK", false),
  };
}

function trustProxy(env: Env): AppConfig["trustProxy"] {
  const value = raw(env, "KARTOGRAPH_TRUST_PROXY");
  if (value === undefined) return false;
  // Digits are a hop count (so "1" trusts the one proxy nearest the service, not every one).
  if (/^\d+$/.test(value)) return int(env, "KARTOGRAPH_TRUST_PROXY", 0, 0, 100);
  const spelled = booleanOf(value);
  if (spelled !== null) return spelled;
  const entries = value.split(",").map((entry) => entry.trim()).filter((entry) => entry !== "");
  for (const entry of entries) {
    if (!/^[0-9A-Fa-f.:]+(\/\d{1,3})?$/.test(entry) && !["loopback", "linklocal", "uniquelocal"].includes(entry)) {
      throw new ConfigError("KARTOGRAPH_TRUST_PROXY", `must be true, false, a hop count (0-100), or addresses and CIDR ranges separated by commas`, value);
    }
  }
  return entries;
}

function corsOrigins(env: Env): string[] {
  const origins = stringList(env, "KARTOGRAPH_CORS_ORIGINS");
  if (origins.includes("*")) {
    // Credentials are allowed for the browser UI; a wildcard origin with credentials is unsafe.
    throw new ConfigError("KARTOGRAPH_CORS_ORIGINS", "must list explicit origins; * is not allowed", raw(env, "KARTOGRAPH_CORS_ORIGINS") ?? "");
  }
  for (const origin of origins) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new ConfigError("KARTOGRAPH_CORS_ORIGINS", "must list origins such as https://ui.example.com", origin);
    }
  }
  return origins;
}

export function loadConfig(env: Env = process.env): AppConfig {
  const production = (env["NODE_ENV"] ?? "").toLowerCase() === "production";
  const oidc = oidcConfig(env);
  const config: AppConfig = {
    production,
    graphName: str(env, "KARTOGRAPH_DB_GRAPH_NAME", "kartograph_graph"),
    host: str(env, "HOST", "127.0.0.1"),
    port: int(env, "PORT", 8000, 0, 65535),
    logLevel: oneOf<LogLevel>(env, "LOG_LEVEL", "info", ["fatal", "error", "warn", "info", "debug", "trace", "silent"]),
    corsOrigins: corsOrigins(env),
    database: databaseConfig(env),
    spicedb: spicedbConfig(env),
    oidc,
    // Production without an issuer is refused below; the flag is off there regardless.
    iam: iamConfig(env, oidc.issuerUrl === null && !production),
    outbox: outboxConfig(env),
    authFailures: authFailureLimitConfig(env),
    audit: { retentionDays: int(env, "KARTOGRAPH_AUDIT_RETENTION_DAYS", 365, 0, 36_500) },
    trustProxy: trustProxy(env),
  };
  if (production && config.oidc.issuerUrl === null) {
    throw new ConfigError(
      "KARTOGRAPH_OIDC_ISSUER_URL",
      "must be set when NODE_ENV=production (the development token issuer is refused in production)",
      "",
    );
  }
  return config;
}
