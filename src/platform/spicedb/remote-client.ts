/**
 * The gRPC client for a SpiceDB cluster: credentials (plaintext, system CAs or a given CA), a
 * deadline on every call, and a short reconnect back-off.
 *
 * Deadlines: @authzed/authzed-node 1.6.1 puts a 30 s default deadline only on the service clients
 * it creates lazily; the PermissionsService client that NewClient preconnects gets none, so a check
 * or write sent to a SpiceDB that accepts the connection and never answers (a frozen node, a
 * half-open connection after a network fault) waited for ever, holding its request and, in a
 * drain, its tenant's outbox lock. Every call now gets a deadline through the library's public
 * `deadlineInterceptor`, and one that passes is DEADLINE_EXCEEDED, which the adapter reports as
 * SpiceDB unavailable (503, and the outbox retries).
 *
 * Reconnect: gRPC's default back-off grows to 120 s, and while the channel waits it fails calls
 * at once, so a process could go on answering 503 for two minutes after SpiceDB was back. Capped
 * at a few seconds, every process recovers soon after SpiceDB does.
 */
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { deadlineInterceptor, v1 } from "@authzed/authzed-node";
import type { SpiceDbConfig } from "../config/config.js";

export class SpiceDbStartError extends Error {
  override name = "SpiceDbStartError";
}

type ClientOptions = NonNullable<Parameters<typeof v1.NewClient>[4]>;
type Interceptor = ReturnType<typeof deadlineInterceptor>;

export interface RemoteCallLimits {
  /** Unary calls: checks, writes, deletes (each answers in milliseconds when SpiceDB is well). */
  readonly unaryDeadlineMs: number;
  /** Streamed answers: lookups and relationship reads, which grow with the data (reconcile reads all). */
  readonly streamDeadlineMs: number;
  /** The longest wait between two attempts to reconnect. */
  readonly maxReconnectBackoffMs: number;
}

export const REMOTE_CALL_LIMITS: RemoteCallLimits = {
  unaryDeadlineMs: 10_000,
  streamDeadlineMs: 120_000,
  maxReconnectBackoffMs: 2_000,
};

/** Sets the deadline a call lacks, by the shape of its answer. */
function deadlines(limits: RemoteCallLimits): Interceptor {
  const unary = deadlineInterceptor(limits.unaryDeadlineMs);
  const stream = deadlineInterceptor(limits.streamDeadlineMs);
  return (options, nextCall) => (options.method_definition.responseStream ? stream : unary)(options, nextCall);
}

function clientOptions(limits: RemoteCallLimits): ClientOptions {
  return {
    interceptors: [deadlines(limits)],
    "grpc.initial_reconnect_backoff_ms": Math.min(500, limits.maxReconnectBackoffMs),
    "grpc.max_reconnect_backoff_ms": limits.maxReconnectBackoffMs,
  };
}

export function remoteSpiceDbClient(
  config: SpiceDbConfig & { endpoint: string },
  limits: RemoteCallLimits = REMOTE_CALL_LIMITS,
): v1.ZedClientInterface {
  const options = clientOptions(limits);
  // PreconnectServices.PERMISSIONS_SERVICE, the library's default (the enum is not exported).
  const preconnect = 1 as Parameters<typeof v1.NewClient>[3];
  if (!config.useTls) {
    return v1.NewClient(config.presharedKey, config.endpoint, v1.ClientSecurity.INSECURE_PLAINTEXT_CREDENTIALS, preconnect, options);
  }
  if (config.certPath !== null) {
    let certificate: Buffer;
    try {
      certificate = readFileSync(config.certPath);
    } catch (error) {
      throw new SpiceDbStartError(
        `SPICEDB_CERT_PATH ${config.certPath} cannot be read: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    try {
      // The client would take anything and then fail every handshake as "unable to verify".
      new X509Certificate(certificate);
    } catch {
      throw new SpiceDbStartError(`SPICEDB_CERT_PATH ${config.certPath} holds no PEM certificate; give the CA certificate that signed SpiceDB's`);
    }
    return v1.NewClientWithCustomCert(config.presharedKey, config.endpoint, certificate, preconnect, options);
  }
  return v1.NewClient(config.presharedKey, config.endpoint, v1.ClientSecurity.SECURE, preconnect, options);
}
