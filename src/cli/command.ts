import type { CommandSpec, ParsedArgs } from './args';
import type { Settings } from './config';

/** One `airlock` command. `run` returns the exit code. */
export interface Command {
  name: string;
  usage: string;
  summary: string;
  spec: CommandSpec;
  /** `settings`: flags, then the environment, then defaults (read once by `runCli`). */
  run(args: ParsedArgs, settings: Settings): Promise<number>;
}
