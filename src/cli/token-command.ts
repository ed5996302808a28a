/**
 * `kartograph-iam token <username>`: prints an access token signed by the development issuer, so
 * that a new user can call the API without running an identity provider.
 */
import { DevelopmentIssuer } from "../iam/infrastructure/identity/development-issuer.js";
import { loadConfig } from "../platform/config/config.js";
import { UsageError, parseCommandArgs, type Command } from "./command.js";

const UNIT_SECONDS = { "": 1, s: 1, m: 60, h: 3600, d: 86_400 } as const;
const MAX_TTL_SECONDS = 366 * 86_400;

/** "3600", "90s", "30m", "8h" or "7d" → seconds. */
export function parseDuration(value: string, usage: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(value.trim());
  const seconds = match ? Number(match[1]) * UNIT_SECONDS[match[2] as keyof typeof UNIT_SECONDS] : Number.NaN;
  if (!Number.isSafeInteger(seconds) || seconds < 1 || seconds > MAX_TTL_SECONDS) {
    throw new UsageError(`--ttl must be a duration such as 3600, 90m, 8h or 7d (at most 366d), got "${value}"\n${usage}`);
  }
  return seconds;
}

export const tokenCommand: Command = {
  summary: "Print an access token from the development issuer (when no OIDC provider is configured)",
  usage:
    "Usage: kartograph-iam token <username> [--name NAME] [--email EMAIL] [--ttl 8h] [--subject SUB]\n\n" +
    "Signs an access token with the development issuer's key in KARTOGRAPH_DATA_DIR/dev-issuer/\n" +
    "(created on first use; the service trusts it when KARTOGRAPH_OIDC_ISSUER_URL is unset).\n" +
    "The subject (user id) defaults to the username; --ttl defaults to 8h. With --email the token also\n" +
    "says email_verified: true, so invitations to that address bind at the first call. Refused in production.\n\n" +
    '  curl -H "Authorization: Bearer $(kartograph-iam token alice)" http://127.0.0.1:8000/iam/tenants',
  async run(args) {
    const parsed = parseCommandArgs(
      args,
      this.usage,
      {
        name: { type: "string" },
        email: { type: "string" },
        ttl: { type: "string" },
        subject: { type: "string" },
      },
      true,
    );
    const [username, ...extra] = parsed.positionals;
    if (username === undefined || username.trim() === "" || extra.length > 0) {
      throw new UsageError(`give exactly one username\n${this.usage}`);
    }
    const ttlSeconds = parseDuration(parsed.values.ttl ?? "8h", this.usage);
    const config = loadConfig();
    if (config.oidc.issuerUrl !== null) {
      throw new UsageError(
        `KARTOGRAPH_OIDC_ISSUER_URL is set (${config.oidc.issuerUrl}): the service trusts that provider, not the development issuer; get a token from it`,
      );
    }
    const issuer = await DevelopmentIssuer.open(config.database.dataDir);
    const token = await issuer.sign({
      subject: parsed.values.subject ?? username,
      username,
      name: parsed.values.name ?? null,
      email: parsed.values.email ?? null,
      audience: config.oidc.audience,
      ttlSeconds,
    });
    process.stdout.write(`${token}\n`);
  },
};
