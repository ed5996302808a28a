/**
 * Why a SpiceDB cluster would not take the permission schema at start, as one line that names the
 * SPICEDB_* setting to look at and what to do. The gRPC client reports every connection problem
 * (refused, TLS mismatch, untrusted certificate) as UNAVAILABLE with the cause in its details, so
 * the details decide.
 */
import type { SpiceDbConfig } from "../config/config.js";

/** A call to a remote SpiceDB that did not answer in time (no gRPC status: we gave up waiting). */
export class SpiceDbDeadlineError extends Error {
  override name = "SpiceDbDeadlineError";

  constructor(
    where: string,
    readonly ms: number,
  ) {
    super(`${where} did not answer within ${ms} ms`);
  }
}

const INVALID_ARGUMENT = 3;
const PERMISSION_DENIED = 7;
const FAILED_PRECONDITION = 9;
const UNAVAILABLE = 14;
const UNAUTHENTICATED = 16;

/** The cause inside grpc-js's "No connection established. Last error: Error: ..." text, on one line. */
function reasonOf(details: string): string {
  return details
    .replace(/\s*Resolution note:\s*$/, "")
    .replace(/^No connection established\. Last error: /, "")
    .replace(/^Error: /, "")
    .replace(/\s*\(\d{4}-\d\d-\d\dT[^)]*\)/, "")
    .replace(/\s+/g, " ")
    .replace(/\.\s*$/, "")
    .trim();
}

/** grpc-js reports refused connections, TLS mismatches and untrusted certificates all as UNAVAILABLE. */
function unavailable(where: string, reason: string, config: SpiceDbConfig): string {
  const notTls = /wrong version number|packet length too long|record layer failure/i.exec(reason);
  if (notTls !== null) {
    return `${where} does not answer TLS (${notTls[0]}); set SPICEDB_USE_TLS=false if it serves plaintext gRPC`;
  }
  if (/altnames/i.test(reason)) {
    return `${where} presents a certificate for other names (${reason}); use a SPICEDB_ENDPOINT host name that the certificate lists`;
  }
  if (/certificate|self[- ]signed|CERT_/i.test(reason)) {
    const signer = config.certPath === null ? "any trusted CA" : `the CA in SPICEDB_CERT_PATH (${config.certPath})`;
    return `${where} presents a certificate not signed by ${signer} (${reason}); set SPICEDB_CERT_PATH to the CA certificate that signed the server's certificate`;
  }
  // A plaintext client meeting a TLS server only learns "Failed to connect".
  const reachedPort = !/\bconnect E|getaddrinfo|ENOTFOUND|EHOSTUNREACH|ENETUNREACH/.test(reason);
  const tlsHint = reachedPort && !config.useTls ? " and serves plaintext gRPC (for TLS set SPICEDB_USE_TLS=true)" : "";
  return `Cannot reach ${where}: ${reason}; check that SpiceDB runs there${tlsHint}`;
}

export function remoteStartFailure(error: unknown, config: SpiceDbConfig & { endpoint: string }): string {
  const where = `SpiceDB at ${config.endpoint} (SPICEDB_ENDPOINT)`;
  if (error instanceof SpiceDbDeadlineError) {
    return `${where} did not answer within ${error.ms} ms; check the address and that SpiceDB runs and is reachable from here`;
  }
  const code = (error as { code?: unknown } | null)?.code;
  const details = (error as { details?: unknown } | null)?.details;
  const reason = reasonOf(typeof details === "string" ? details : error instanceof Error ? error.message : String(error));
  switch (code) {
    case UNAUTHENTICATED:
    case PERMISSION_DENIED:
      return `${where} refuses SPICEDB_PRESHARED_KEY (${reason}); set it to a key the server was started with (--grpc-preshared-key)`;
    case INVALID_ARGUMENT:
    case FAILED_PRECONDITION:
      return `${where} refuses kartograph-iam's permission schema (${reason}); it holds data of another schema: point SPICEDB_ENDPOINT at a SpiceDB whose datastore serves kartograph-iam alone`;
    case UNAVAILABLE:
      return unavailable(where, reason, config);
    default:
      return `${where} would not take the permission schema: ${reason}`;
  }
}
