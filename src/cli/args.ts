/** A small, strict argument parser: positionals, `--flag value`, `--flag=value`, boolean switches. */
import { isWellFormedText } from '../core';

export interface CommandSpec {
  /** Flags taking a value. */
  options?: string[];
  /** Flags without a value. */
  switches?: string[];
  /** Flags taking a value that may be given more than once. */
  lists?: string[];
}

export interface ParsedArgs {
  positionals: string[];
  options: Record<string, string>;
  switches: Set<string>;
  /** The values of repeatable flags, in order. */
  lists: Record<string, string[]>;
}

/** Thrown for arguments that do not fit the command: shown with the command's help, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

const GLOBAL_OPTIONS = ['address', 'namespace', 'task-queue', 'profile', 'config-file'];

/** Parses `argv` for a command; `--help` is always a switch. */
export function parseArgs(argv: string[], spec: CommandSpec): ParsedArgs {
  const options = [...GLOBAL_OPTIONS, ...(spec.options ?? [])];
  const switches = ['help', ...(spec.switches ?? [])];
  const lists = spec.lists ?? [];
  const parsed: ParsedArgs = { positionals: [], options: {}, switches: new Set(), lists: {} };
  if (argv.some((arg) => !isWellFormedText(arg))) throw new UsageError('Arguments must be valid Unicode text');
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      parsed.positionals.push(...argv.slice(i + 1));
      break;
    }
    const match = /^--([a-z][a-z-]*)(?:=(.*))?$/s.exec(arg);
    if (!match) {
      parsed.positionals.push(arg);
      continue;
    }
    const [, name, inline] = match;
    if (switches.includes(name)) {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
      parsed.switches.add(name);
    } else if (options.includes(name) || lists.includes(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined || value === '') throw new UsageError(`--${name} needs a value`);
      if (lists.includes(name)) (parsed.lists[name] ??= []).push(value);
      else parsed.options[name] = value;
    } else {
      throw new UsageError(`Unknown option --${name}`);
    }
  }
  return parsed;
}
