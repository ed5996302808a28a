/**
 * PostgreSQL write-ahead log positions (pg_lsn, written "16/B374D848": two 32-bit halves in hex),
 * as bigints so that they compare and subtract exactly.
 */
const LSN = /^([0-9A-F]{1,8})\/([0-9A-F]{1,8})$/i;

export function parseWalPosition(text: string): bigint {
  const match = LSN.exec(text);
  if (match === null) throw new Error(`not a WAL position: ${JSON.stringify(text)}`);
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

export function formatWalPosition(position: bigint): string {
  return `${(position >> 32n).toString(16).toUpperCase()}/${(position & 0xffffffffn).toString(16).toUpperCase()}`;
}
