/**
 * Certificates made at test time with openssl: a CA, a server certificate it signs for localhost
 * and 127.0.0.1, and a second CA that signed nothing of the server's.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

export interface TestCertificates {
  readonly caPath: string;
  readonly otherCaPath: string;
  readonly serverCertPath: string;
  readonly serverKeyPath: string;
}

const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

function selfSignedCa(dir: string, name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  openssl("req", "-x509", ...EC_KEY, "-keyout", key, "-out", cert, "-days", "2", "-subj", `/CN=${name}`);
  return { cert, key };
}

export function createTestCertificates(dir: string): TestCertificates {
  const ca = selfSignedCa(dir, "kiam-test-ca");
  const other = selfSignedCa(dir, "kiam-other-ca");
  const serverKeyPath = join(dir, "server.key");
  const request = join(dir, "server.csr");
  const serverCertPath = join(dir, "server.pem");
  const extensions = join(dir, "server.ext");
  writeFileSync(extensions, "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  openssl("req", ...EC_KEY, "-keyout", serverKeyPath, "-out", request, "-subj", "/CN=localhost");
  openssl("x509", "-req", "-in", request, "-CA", ca.cert, "-CAkey", ca.key, "-CAcreateserial", "-out", serverCertPath, "-days", "2", "-extfile", extensions);
  return { caPath: ca.cert, otherCaPath: other.cert, serverCertPath, serverKeyPath };
}
