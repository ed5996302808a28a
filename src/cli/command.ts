import { parseArgs, type ParseArgsConfig } from "node:util";

/** One `kartograph-iam <name>` command. */
export interface Command {
  readonly summary: string;
  readonly usage: string;
  run(args: string[]): Promise<void>;
}

/** Wrong arguments: printed as one line plus the command's usage, exit status 1. */
export class UsageError extends Error {
  override name = "UsageError";
}

export function parseCommandArgs<T extends NonNullable<ParseArgsConfig["options"]>>(
  args: string[],
  usage: string,
  options: T,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (error) {
    throw new UsageError(`${error instanceof Error ? error.message : String(error)}\n${usage}`);
  }
}
