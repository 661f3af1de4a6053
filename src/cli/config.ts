/** Configuration of the programs (`npm start`, the worker), parsed once from flags and environment. */
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { DEFAULT_TASK_QUEUE } from '../core';

const EnvSchema = z.object({
  TEMPORAL_ADDRESS: z.string().min(1).optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default(DEFAULT_TASK_QUEUE),
  TEMPORAL_API_KEY: z.string().min(1).optional(),
  TEMPORAL_TLS: z.enum(['true', 'false', '1', '0']).optional(),
  AIRLOCK_HOME: z.string().min(1).optional(),
  AIRLOCK_APPROVER: z.string().min(1).optional(),
});

export interface AirlockConfig {
  /** A Temporal server to use; absent: start or reuse the local dev server. */
  address?: string;
  namespace: string;
  taskQueue: string;
  apiKey?: string;
  tls: boolean;
  /** Where the example agent's sandbox and outbox live. */
  home: string;
  /** Recorded as the approver of decisions made in the terminal. */
  approver: string;
  /** Thread to resume (`--thread ID`). */
  threadId?: string;
}

/**
 * Reads flags (`--thread ID`, `--address HOST:PORT`, `--namespace NS`, `--task-queue Q`, `--as NAME`)
 * and the environment (`TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, `TEMPORAL_TASK_QUEUE`,
 * `TEMPORAL_API_KEY`, `TEMPORAL_TLS`, `AIRLOCK_HOME`, `AIRLOCK_APPROVER`).
 * @throws Error with a readable message on an unknown flag or a bad value
 */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv, projectRoot: string): AirlockConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) throw new Error(`Invalid environment:\n${z.prettifyError(parsed.error)}`);
  const flags = parseFlags(argv, ['thread', 'address', 'namespace', 'task-queue', 'as']);
  const e = parsed.data;
  return {
    address: flags.address ?? e.TEMPORAL_ADDRESS,
    namespace: flags.namespace ?? e.TEMPORAL_NAMESPACE,
    taskQueue: flags['task-queue'] ?? e.TEMPORAL_TASK_QUEUE,
    apiKey: e.TEMPORAL_API_KEY,
    tls: e.TEMPORAL_TLS === 'true' || e.TEMPORAL_TLS === '1' || e.TEMPORAL_API_KEY !== undefined,
    home: path.resolve(e.AIRLOCK_HOME ?? path.join(projectRoot, '.airlock')),
    approver: flags.as ?? e.AIRLOCK_APPROVER ?? safeUserName(),
    threadId: flags.thread,
  };
}

/** `--name value` and `--name=value` pairs; anything else is an error. */
export function parseFlags(argv: string[], known: string[]): Record<string, string> {
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!match || !known.includes(match[1])) throw new Error(`Unknown argument '${argv[i]}' (known: ${known.map((k) => `--${k}`).join(', ')})`);
    const value = match[2] ?? argv[++i];
    if (value === undefined || value === '') throw new Error(`--${match[1]} needs a value`);
    flags[match[1]] = value;
  }
  return flags;
}

function safeUserName(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'terminal';
  }
}
