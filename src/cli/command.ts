import type { CommandSpec, ParsedArgs } from './args';

/** One `airlock` command. `run` returns the exit code. */
export interface Command {
  name: string;
  usage: string;
  summary: string;
  spec: CommandSpec;
  run(args: ParsedArgs): Promise<number>;
}
