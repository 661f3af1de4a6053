/**
 * Where and how Airlock's programs reach Temporal, read the way Temporal's own tools read it
 * (environment configuration, `@temporalio/envconfig`): the flags, then the `TEMPORAL_*`
 * variables, then a profile of a TOML config file (`--config-file` / `TEMPORAL_CONFIG_FILE`, else
 * `~/.config/temporalio/temporal.toml` when it exists; profile `--profile` / `TEMPORAL_PROFILE`,
 * else `default`), then the defaults.
 */
import { statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadClientConfigFromToml, loadClientConfigProfile, type ClientConfig, type ClientConfigProfile } from '@temporalio/envconfig';
import type { TLSConfig } from '@temporalio/client';
import { z } from 'zod';
import { UsageError, type ParsedArgs } from './args';
import { readSettingFile } from './setting-files';
import { readTlsMaterial, type NamedTlsSource, type TlsSource } from './tls-material';

/** How the programs connect to Temporal (the task queue is Airlock's own and lives beside it). */
export interface TemporalConnectionSettings {
  /** Absent: no flag, variable or profile named a server (`npm start` then starts or reuses a local dev server). */
  address?: string;
  namespace: string;
  /** An API key (Temporal Cloud); sent as a bearer token, over TLS unless TLS is explicitly off. */
  apiKey?: string;
  /** Whether the connection uses TLS. */
  tls: boolean;
  /** The TLS details when TLS is on: server CA, server name, client certificate and key (read at start). */
  tlsConfig?: TLSConfig;
  /** gRPC metadata sent with every call (`TEMPORAL_GRPC_META_<NAME>`, a profile's `grpc_meta`). */
  metadata?: Record<string, string>;
  /** The profile the settings came from, when a config file gave one. */
  profile?: { name: string; file: string };
}

/** Flags (as `parseArgs` gives them) that the connection reads. */
type ConnectionFlags = 'address' | 'namespace' | 'profile' | 'config-file';

const text = z.string().trim().min(1);
const bool = z
  .enum(['true', 'false', '1', '0'])
  .transform((value) => value === 'true' || value === '1')
  .optional();
/** A host name, IPv4 or bracketed IPv6 address, with an optional port. */
const address = z.string().regex(/^(\[[0-9A-Fa-f:.%\w]+\]|[A-Za-z0-9._-]+)(:\d{1,5})?$/);
/** Profile names as TOML bare keys: they are safe to repeat in messages. */
const profileName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);
const metadataValue = z.string().regex(/^[\x20-\x7e]*$/);

const ConnectionEnv = z.object({
  TEMPORAL_CONFIG_FILE: text.optional(),
  TEMPORAL_PROFILE: profileName.optional(),
  TEMPORAL_ADDRESS: address.optional(),
  TEMPORAL_NAMESPACE: text.optional(),
  TEMPORAL_API_KEY: text.optional(),
  TEMPORAL_TLS: bool,
  TEMPORAL_TLS_CLIENT_CERT_PATH: text.optional(),
  TEMPORAL_TLS_CLIENT_CERT_DATA: text.optional(),
  TEMPORAL_TLS_CLIENT_KEY_PATH: text.optional(),
  TEMPORAL_TLS_CLIENT_KEY_DATA: text.optional(),
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: text.optional(),
  TEMPORAL_TLS_SERVER_CA_CERT_DATA: text.optional(),
  TEMPORAL_TLS_SERVER_NAME: text.optional(),
  TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: bool,
});
type ConnectionEnv = z.infer<typeof ConnectionEnv>;

const GRPC_META_PREFIX = 'TEMPORAL_GRPC_META_';

/** What a profile may hold once read (the file is the user's, but still checked). */
const ProfileSchema = z.object({
  address: address.optional(),
  namespace: text.optional(),
  apiKey: text.optional(),
  tls: z
    .object({
      disabled: z.boolean().optional(),
      serverName: text.optional(),
      clientCert: z.any().optional(),
      clientKey: z.any().optional(),
      serverCACert: z.any().optional(),
    })
    .optional(),
  grpcMeta: z.record(z.string().regex(/^[a-z0-9_.-]+$/), metadataValue).optional(),
});

/** The TOML key (or the variable) behind each checked field, for messages. */
const FIELD_NAMES: Record<string, string> = {
  address: 'address (TEMPORAL_ADDRESS)',
  namespace: 'namespace (TEMPORAL_NAMESPACE)',
  apiKey: 'api_key (TEMPORAL_API_KEY)',
  tls: 'tls',
  'tls.disabled': 'tls.disabled (TEMPORAL_TLS)',
  'tls.serverName': 'tls.server_name (TEMPORAL_TLS_SERVER_NAME)',
  grpcMeta: 'grpc_meta (TEMPORAL_GRPC_META_*)',
};

/**
 * Reads the connection settings: flags, then `TEMPORAL_*` variables, then the profile, then defaults.
 * Files (the config file, certificates, keys) are read here, once.
 * @throws UsageError naming the variable, flag, file or profile at fault (never a value or a file's contents)
 */
export function readTemporalConnection(args: Pick<ParsedArgs, 'options'>, rawEnv: NodeJS.ProcessEnv, cwd: string): TemporalConnectionSettings {
  const env = connectionEnv(rawEnv);
  const flags = checkedFlags(args.options);
  const file = configFile(flags['config-file'], env.values.TEMPORAL_CONFIG_FILE, rawEnv, cwd);
  const requested = flags.profile ?? env.values.TEMPORAL_PROFILE;
  const config = file ? parseConfigFile(file) : undefined;
  const name = requested ?? 'default';
  if (requested && !config) throw new UsageError(`Profile '${requested}' was asked for (--profile / TEMPORAL_PROFILE) but there is no Temporal config file (--config-file / TEMPORAL_CONFIG_FILE)`);
  if (requested && config && !Object.hasOwn(config.profiles, requested)) throw new UsageError(`No profile '${requested}' in ${file!.path}`);
  const profile = config && Object.hasOwn(config.profiles, name) ? { name, file: file!.path } : undefined;
  const where = profile ? `profile '${profile.name}' in ${profile.file}` : 'the environment';

  let merged: ClientConfigProfile;
  try {
    merged = loadClientConfigProfile(
      file && profile ? { configSource: { data: file.text }, profile: name, overrideEnvVars: env.forEnvconfig } : { disableFile: true, overrideEnvVars: env.forEnvconfig },
    );
  } catch (err) {
    // envconfig's own checks (e.g. both client_cert_path and client_cert_data) name keys, never values.
    throw new UsageError(`Invalid Temporal settings (${where}): ${(err as Error).message.split('\n')[0]}`);
  }
  const checked = ProfileSchema.safeParse(merged);
  if (!checked.success) {
    const fields = [...new Set(checked.error.issues.map((issue) => FIELD_NAMES[issue.path.slice(0, 2).join('.')] ?? FIELD_NAMES[String(issue.path[0])] ?? String(issue.path[0])))];
    throw new UsageError(`Invalid Temporal settings (${where}): ${fields.join(', ')}`);
  }
  if (env.values.TEMPORAL_TLS_DISABLE_HOST_VERIFICATION) {
    throw new UsageError('TEMPORAL_TLS_DISABLE_HOST_VERIFICATION=true is not supported: the server\'s name is always verified. Set TEMPORAL_TLS_SERVER_NAME to the name in its certificate instead');
  }
  const apiKey = merged.apiKey;
  const tlsOn = merged.tls ? merged.tls.disabled !== true : apiKey !== undefined;
  const tlsConfig = tlsOn && merged.tls ? readTlsMaterial(tlsSources(merged.tls, env.values, profile), cwd) : undefined;
  return {
    address: flags.address ?? merged.address,
    namespace: flags.namespace ?? merged.namespace ?? 'default',
    apiKey,
    tls: tlsOn,
    tlsConfig,
    metadata: headers(merged.grpcMeta),
    profile,
  };
}

/**
 * gRPC metadata with every `_` of a name turned into `-` (`TEMPORAL_GRPC_META_X_TENANT_ID` is
 * `x-tenant-id`, as Temporal's CLI and Go SDK read it; envconfig 1.24 turns only the first).
 */
function headers(meta: Record<string, string> | undefined): Record<string, string> | undefined {
  const entries = Object.entries(meta ?? {});
  return entries.length ? Object.fromEntries(entries.map(([name, value]) => [name.replaceAll('_', '-'), value])) : undefined;
}

/** The connection's variables, checked; and the environment envconfig reads (empty values unset, as everywhere in Airlock). */
function connectionEnv(rawEnv: NodeJS.ProcessEnv): { values: ConnectionEnv; forEnvconfig: Record<string, string> } {
  const present = (key: string) => (rawEnv[key] === '' ? undefined : rawEnv[key]);
  const parsed = ConnectionEnv.safeParse(Object.fromEntries(Object.keys(ConnectionEnv.shape).map((key) => [key, present(key)])));
  const invalid = parsed.success ? [] : [...new Set(parsed.error.issues.map((issue) => String(issue.path[0])))];
  const forEnvconfig: Record<string, string> = {};
  for (const [key, value] of Object.entries(rawEnv)) {
    if (value === undefined) continue;
    if (key.startsWith(GRPC_META_PREFIX)) {
      // An empty value removes the header (envconfig's rule); a name or value that is no header is refused.
      if (!/^[A-Za-z0-9_]+$/.test(key.slice(GRPC_META_PREFIX.length)) || !metadataValue.safeParse(value).success) invalid.push(key);
      forEnvconfig[key] = value;
    } else if (key in ConnectionEnv.shape && value !== '') {
      forEnvconfig[key] = value;
    }
  }
  if (invalid.length || !parsed.success) throw new UsageError(`Invalid environment: ${invalid.join(', ')} (see the README's table of settings)`);
  return { values: parsed.data, forEnvconfig };
}

function checkedFlags(options: Record<string, string>): Partial<Record<ConnectionFlags, string>> {
  const flags: Partial<Record<ConnectionFlags, string>> = {
    address: options.address,
    namespace: options.namespace,
    profile: options.profile,
    'config-file': options['config-file'],
  };
  if (flags.address !== undefined && !address.safeParse(flags.address).success) throw new UsageError('--address takes <host>:<port>');
  if (flags.profile !== undefined && !profileName.safeParse(flags.profile).success) throw new UsageError('--profile takes a profile name (letters, digits, - and _)');
  return flags;
}

/** The config file to read, if any: named by flag or variable (then it must exist), or Temporal's default path when a file is there. */
function configFile(flag: string | undefined, variable: string | undefined, rawEnv: NodeJS.ProcessEnv, cwd: string): { path: string; text: string } | undefined {
  const named = flag ?? variable;
  const setting = flag !== undefined ? '--config-file' : 'TEMPORAL_CONFIG_FILE';
  const file = named !== undefined ? path.resolve(cwd, named) : defaultConfigFile(rawEnv);
  if (!file) return undefined;
  if (named === undefined && !isFile(file)) return undefined;
  const described = `the Temporal config file ${file}${named !== undefined ? ` (${setting})` : ''}`;
  return { path: file, text: readSettingFile(file, described).toString('utf8') };
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * Temporal's default config file, as its CLI and SDKs find it: `temporalio/temporal.toml` in the
 * user's config directory (`$XDG_CONFIG_HOME` or `~/.config`; `~/Library/Application Support` on
 * macOS; `%APPDATA%` on Windows).
 */
export function defaultConfigFile(env: NodeJS.ProcessEnv, platform = os.platform()): string | undefined {
  const configDir =
    platform === 'win32' ? env.APPDATA || undefined
    : platform === 'darwin' ? env.HOME && path.join(env.HOME, 'Library', 'Application Support')
    : env.XDG_CONFIG_HOME ? (path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : undefined)
    : env.HOME && path.join(env.HOME, '.config');
  return configDir ? path.join(configDir, 'temporalio', 'temporal.toml') : undefined;
}

/** Parses the config file with Temporal's reader; a syntax error names the line, never the text. */
function parseConfigFile(file: { path: string; text: string }): ClientConfig {
  try {
    return loadClientConfigFromToml(Buffer.from(file.text), { strict: false });
  } catch (err) {
    const { line, column } = err as { line?: unknown; column?: unknown };
    // A syntax error's message quotes the lines around it: only its position is shown.
    if (typeof line === 'number' && typeof column === 'number') throw new UsageError(`The Temporal config file ${file.path} is not valid TOML (line ${line}, column ${column})`);
    // envconfig's own checks (e.g. both client_cert_path and client_cert_data) name keys, never values.
    throw new UsageError(`Invalid Temporal config file ${file.path}: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** The TLS material's sources, each named by the variable that set it or the profile's key. */
function tlsSources(tls: NonNullable<ClientConfigProfile['tls']>, env: ConnectionEnv, profile: TemporalConnectionSettings['profile']) {
  const named = (source: TlsSource | undefined, variable: 'CLIENT_CERT' | 'CLIENT_KEY' | 'SERVER_CA_CERT'): NamedTlsSource => {
    const kind = source && 'data' in source ? 'DATA' : 'PATH';
    const fromEnv = env[`TEMPORAL_TLS_${variable}_${kind}`] !== undefined;
    const key = `tls.${variable.toLowerCase()}_${kind.toLowerCase()}`;
    return { source, setting: fromEnv || !profile ? `TEMPORAL_TLS_${variable}_${kind}` : `${key} of profile '${profile.name}'` };
  };
  return {
    serverName: tls.serverName,
    serverCaCert: named(tls.serverCACert, 'SERVER_CA_CERT'),
    clientCert: named(tls.clientCert, 'CLIENT_CERT'),
    clientKey: named(tls.clientKey, 'CLIENT_KEY'),
  };
}
