/**
 * The connection settings: flags over `TEMPORAL_*` variables over a TOML profile over defaults,
 * TLS material read and checked at start, and one-line errors that name the file, profile or
 * variable at fault without showing a secret.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import fc from 'fast-check';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, UsageError } from '../../src/cli/args';
import { readSettings } from '../../src/cli/config';
import { connectionOptions, describeTarget, resolveTarget } from '../../src/cli/context';
import { defaultConfigFile } from '../../src/cli/temporal-settings';
import { createCa, createTlsCerts, type TlsCerts } from '../tls-certs';

const SECRET_KEY = 'sk-airlock-test-4b1d9e0f7a2c';
let dir: string;
let certs: TlsCerts;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'airlock-settings-'));
  certs = createTlsCerts();
});

/** The settings a command would read with `argv` and exactly `env` (no HOME: no default config file). */
const read = (argv: string[], env: NodeJS.ProcessEnv) => readSettings(parseArgs(argv, {}), env, dir).temporal;

/** The error `read` throws. */
function failure(argv: string[], env: NodeJS.ProcessEnv): UsageError {
  try {
    read(argv, env);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return err as UsageError;
  }
  throw new Error('no error');
}

function writeConfig(name: string, toml: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, toml);
  return file;
}

const PROFILES = `
[profile.default]
address = "default.example:7233"
namespace = "from-default"

[profile.cloud]
address = "airlock.a1b2c.tmprl.cloud:7233"
namespace = "airlock.a1b2c"
api_key = "${SECRET_KEY}"

[profile.cloud.grpc_meta]
x-tenant = "acme"
`;

test('with nothing set: no address (npm start starts its own server), namespace default, no TLS', () => {
  expect(read([], {})).toEqual({ address: undefined, namespace: 'default', taskQueue: 'airlock', apiKey: undefined, tls: false, tlsConfig: undefined, metadata: undefined, profile: undefined });
  expect(resolveTarget({ temporal: read([], {}) } as never).address).toBe('localhost:7233');
});

test('the variables alone, as before: address, namespace, task queue, API key (which turns TLS on)', () => {
  const settings = read([], { TEMPORAL_ADDRESS: 'temporal.internal:7233', TEMPORAL_NAMESPACE: 'prod', TEMPORAL_TASK_QUEUE: 'q', TEMPORAL_API_KEY: SECRET_KEY });
  expect(settings).toMatchObject({ address: 'temporal.internal:7233', namespace: 'prod', taskQueue: 'q', apiKey: SECRET_KEY, tls: true });
  expect(connectionOptions({ ...settings, address: settings.address! })).toEqual({ address: 'temporal.internal:7233', tls: true, apiKey: SECRET_KEY, metadata: undefined });
  expect(read([], { TEMPORAL_TLS: 'true' }).tls).toBe(true);
});

test('a profile chosen by TEMPORAL_PROFILE in the file of TEMPORAL_CONFIG_FILE gives address, namespace, API key and metadata', () => {
  const file = writeConfig('profiles.toml', PROFILES);
  const settings = read([], { TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'cloud' });
  expect(settings).toMatchObject({ address: 'airlock.a1b2c.tmprl.cloud:7233', namespace: 'airlock.a1b2c', apiKey: SECRET_KEY, tls: true, metadata: { 'x-tenant': 'acme' }, profile: { name: 'cloud', file } });
  expect(describeTarget({ ...settings, address: settings.address! })).toBe('airlock.a1b2c.tmprl.cloud:7233 (namespace airlock.a1b2c, TLS, API key, profile cloud)');
  expect(describeTarget({ ...settings, address: settings.address! })).not.toContain(SECRET_KEY);
});

test('without a profile named, the file\'s "default" profile is used; without one, none', () => {
  expect(read([], { TEMPORAL_CONFIG_FILE: writeConfig('default.toml', PROFILES) })).toMatchObject({ address: 'default.example:7233', namespace: 'from-default', profile: { name: 'default' } });
  const noDefault = writeConfig('no-default.toml', '[profile.other]\naddress = "other:7233"\n');
  expect(read([], { TEMPORAL_CONFIG_FILE: noDefault })).toMatchObject({ address: undefined, namespace: 'default', profile: undefined });
});

test('precedence: flags over variables over the profile over defaults', () => {
  const file = writeConfig('precedence.toml', PROFILES);
  const env = { TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'cloud' };
  expect(read([], { ...env, TEMPORAL_ADDRESS: 'env.example:7233' })).toMatchObject({ address: 'env.example:7233', namespace: 'airlock.a1b2c' });
  expect(read([], { ...env, TEMPORAL_NAMESPACE: 'env-ns' })).toMatchObject({ address: 'airlock.a1b2c.tmprl.cloud:7233', namespace: 'env-ns' });
  expect(read(['--address', 'flag.example:7233', '--namespace', 'flag-ns'], { ...env, TEMPORAL_ADDRESS: 'env.example:7233', TEMPORAL_NAMESPACE: 'env-ns' })).toMatchObject({
    address: 'flag.example:7233',
    namespace: 'flag-ns',
    apiKey: SECRET_KEY,
  });
  expect(read(['--profile', 'default'], env)).toMatchObject({ address: 'default.example:7233', profile: { name: 'default' } });
  const other = writeConfig('other.toml', '[profile.cloud]\naddress = "other.example:7233"\n');
  expect(read(['--config-file', other], env)).toMatchObject({ address: 'other.example:7233', profile: { name: 'cloud', file: other } });
  // An empty variable is unset, as everywhere in Airlock.
  expect(read([], { ...env, TEMPORAL_ADDRESS: '' }).address).toBe('airlock.a1b2c.tmprl.cloud:7233');
  // TLS explicitly off wins over an API key (Temporal's rule).
  expect(read([], { ...env, TEMPORAL_TLS: 'false' }).tls).toBe(false);
});

test("Temporal's default config file is read when it exists, and only then", () => {
  const configHome = path.join(dir, 'xdg');
  expect(defaultConfigFile({ XDG_CONFIG_HOME: configHome }, 'linux')).toBe(path.join(configHome, 'temporalio/temporal.toml'));
  expect(defaultConfigFile({ HOME: '/home/ann' }, 'linux')).toBe('/home/ann/.config/temporalio/temporal.toml');
  expect(defaultConfigFile({ HOME: '/Users/ann' }, 'darwin')).toBe('/Users/ann/Library/Application Support/temporalio/temporal.toml');
  expect(read([], { XDG_CONFIG_HOME: configHome })).toMatchObject({ address: undefined, profile: undefined });
  mkdirSync(path.join(configHome, 'temporalio'), { recursive: true });
  writeFileSync(path.join(configHome, 'temporalio/temporal.toml'), PROFILES);
  expect(read([], { XDG_CONFIG_HOME: configHome })).toMatchObject({ address: 'default.example:7233', profile: { name: 'default' } });
});

test('mTLS from a profile: the server CA, the client certificate and key are read at start, the server name kept', () => {
  const file = writeConfig(
    'mtls.toml',
    `[profile.onprem]
address = "127.0.0.1:7233"
namespace = "airlock"
[profile.onprem.tls]
server_ca_cert_path = "${certs.ca.cert}"
client_cert_path = "${certs.client.cert}"
client_key_path = "${certs.client.key}"
server_name = "temporal.internal"
`,
  );
  const settings = read(['--profile', 'onprem'], { TEMPORAL_CONFIG_FILE: file });
  expect(settings.tls).toBe(true);
  expect(settings.tlsConfig).toEqual({
    serverNameOverride: 'temporal.internal',
    serverRootCACertificate: readFileSync(certs.ca.cert),
    clientCertPair: { crt: readFileSync(certs.client.cert), key: readFileSync(certs.client.key) },
  });
  const options = connectionOptions({ ...settings, address: settings.address! });
  expect(options.tls).toBe(settings.tlsConfig);
  expect(describeTarget({ ...settings, address: settings.address! })).toBe('127.0.0.1:7233 (namespace airlock, mTLS, profile onprem)');
});

test('mTLS from the variables alone, PEM text included; gRPC metadata from TEMPORAL_GRPC_META_*', () => {
  const settings = read([], {
    TEMPORAL_ADDRESS: 'localhost:7233',
    TEMPORAL_TLS_SERVER_CA_CERT_DATA: readFileSync(certs.ca.cert, 'utf8'),
    TEMPORAL_TLS_CLIENT_CERT_PATH: certs.client.cert,
    TEMPORAL_TLS_CLIENT_KEY_PATH: certs.client.key,
    TEMPORAL_GRPC_META_X_TENANT_ID: 'acme',
  });
  expect(settings.tls).toBe(true);
  expect(Buffer.from(settings.tlsConfig!.serverRootCACertificate!).toString()).toBe(readFileSync(certs.ca.cert, 'utf8'));
  expect(settings.tlsConfig!.clientCertPair).toBeDefined();
  expect(settings.metadata).toEqual({ 'x-tenant-id': 'acme' });
});

describe('hostile or broken settings fail with one line naming the culprit, never a secret', () => {
  test('a config file that is not there, when named', () => {
    const missing = path.join(dir, 'missing.toml');
    expect(failure([], { TEMPORAL_CONFIG_FILE: missing }).message).toBe(`Cannot read the Temporal config file ${missing} (TEMPORAL_CONFIG_FILE): no such file`);
    expect(failure(['--config-file', missing], {}).message).toBe(`Cannot read the Temporal config file ${missing} (--config-file): no such file`);
    expect(failure([], { TEMPORAL_CONFIG_FILE: dir }).message).toBe(`Cannot read the Temporal config file ${dir} (TEMPORAL_CONFIG_FILE): a directory`);
  });

  test('malformed TOML: the file and the line, not the text (which may hold a key)', () => {
    const file = writeConfig('broken.toml', `[profile.cloud]\naddress = "x:7233"\napi_key = "${SECRET_KEY}\n`);
    const error = failure([], { TEMPORAL_CONFIG_FILE: file });
    expect(error.message).toMatch(new RegExp(`^The Temporal config file ${file} is not valid TOML \\(line 3, column \\d+\\)$`));
    expect(error.message).not.toContain(SECRET_KEY);
  });

  test('an unknown profile, or a profile without a file', () => {
    const file = writeConfig('known.toml', PROFILES);
    expect(failure([], { TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'staging' }).message).toBe(`No profile 'staging' in ${file}`);
    expect(failure(['--profile', 'staging'], {}).message).toMatch(/^Profile 'staging' was asked for .* but there is no Temporal config file/);
    expect(failure(['--profile', 'a b\u001b[31m'], {}).message).toBe('--profile takes a profile name (letters, digits, - and _)');
  });

  test('a profile whose values have the wrong types names the keys', () => {
    const file = writeConfig('types.toml', '[profile.default]\naddress = 7233\n[profile.default.tls]\nserver_name = 5\n');
    expect(failure([], { TEMPORAL_CONFIG_FILE: file }).message).toBe(`Invalid Temporal settings (profile 'default' in ${file}): address (TEMPORAL_ADDRESS), tls.server_name (TEMPORAL_TLS_SERVER_NAME)`);
  });

  test('invalid variables are named, their values never shown', () => {
    expect(failure([], { TEMPORAL_TLS: 'maybe', TEMPORAL_ADDRESS: 'evil host\u001b[2J:1' }).message).toBe("Invalid environment: TEMPORAL_ADDRESS, TEMPORAL_TLS (see the README's table of settings)");
    expect(failure([], { TEMPORAL_GRPC_META_X: 'line\nbreak' }).message).toBe("Invalid environment: TEMPORAL_GRPC_META_X (see the README's table of settings)");
    expect(failure(['--address', 'a b'], {}).message).toBe('--address takes <host>:<port>');
    expect(failure([], { TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: 'true' }).message).toMatch(/^TEMPORAL_TLS_DISABLE_HOST_VERIFICATION=true is not supported/);
  });

  test('a certificate or key file that is missing, not PEM, alone, or not a pair', () => {
    const missing = path.join(dir, 'nope.crt');
    expect(failure([], { TEMPORAL_TLS_SERVER_CA_CERT_PATH: missing }).message).toBe(`Cannot read ${missing} (TEMPORAL_TLS_SERVER_CA_CERT_PATH): no such file`);
    expect(failure([], { TEMPORAL_TLS_CLIENT_CERT_PATH: certs.client.cert, TEMPORAL_TLS_CLIENT_KEY_PATH: '/dev/zero' }).message).toBe(
      'Cannot read /dev/zero (TEMPORAL_TLS_CLIENT_KEY_PATH): not a regular file',
    );
    const notPem = writeConfig('not-a-key.pem', `${SECRET_KEY}\n`);
    const badKey = failure([], { TEMPORAL_TLS_CLIENT_CERT_PATH: certs.client.cert, TEMPORAL_TLS_CLIENT_KEY_PATH: notPem });
    expect(badKey.message).toBe(`${notPem} (TEMPORAL_TLS_CLIENT_KEY_PATH) is not an unencrypted PEM private key (the client key)`);
    expect(failure([], { TEMPORAL_TLS_SERVER_CA_CERT_PATH: notPem }).message).toBe(`${notPem} (TEMPORAL_TLS_SERVER_CA_CERT_PATH) is not a PEM certificate (the server CA certificate)`);
    expect(failure([], { TEMPORAL_TLS_CLIENT_CERT_PATH: certs.client.cert }).message).toBe(
      'A TLS client certificate (TEMPORAL_TLS_CLIENT_CERT_PATH) needs its private key (TEMPORAL_TLS_CLIENT_KEY_PATH)',
    );
    const otherCa = createCa(dir, 'Another CA', 'other-ca');
    expect(failure([], { TEMPORAL_TLS_CLIENT_CERT_PATH: certs.client.cert, TEMPORAL_TLS_CLIENT_KEY_PATH: otherCa.key }).message).toBe(
      'The TLS client key (TEMPORAL_TLS_CLIENT_KEY_PATH) does not belong to the client certificate (TEMPORAL_TLS_CLIENT_CERT_PATH)',
    );
    const profile = writeConfig('missing-key.toml', `[profile.default.tls]\nclient_cert_path = "${certs.client.cert}"\nclient_key_path = "${missing}"\n`);
    expect(failure([], { TEMPORAL_CONFIG_FILE: profile }).message).toBe(`Cannot read ${missing} (tls.client_key_path of profile 'default'): no such file`);
  });

  test('a path and PEM text for the same piece is refused', () => {
    const file = writeConfig('both.toml', `[profile.default.tls]\nclient_cert_path = "${certs.client.cert}"\nclient_cert_data = "x"\n`);
    expect(failure([], { TEMPORAL_CONFIG_FILE: file }).message).toBe(`Invalid Temporal config file ${file}: Cannot specify both client_cert_path and client_cert_data`);
  });
});

test('any values of the connection variables: settings or a UsageError, and never the value in its message', () => {
  // Paths and profile names are named back on purpose (they say which file); everything else, secrets included, never is.
  const variables = ['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'TEMPORAL_API_KEY', 'TEMPORAL_TLS', 'TEMPORAL_TLS_SERVER_NAME', 'TEMPORAL_TLS_CLIENT_KEY_DATA', 'TEMPORAL_TLS_SERVER_CA_CERT_DATA', 'TEMPORAL_GRPC_META_X_TENANT'];
  fc.assert(
    fc.property(fc.constantFrom(...variables), fc.string({ minLength: 1, maxLength: 40 }), (variable, tail) => {
      const value = `zq${tail}`;
      try {
        read([], { [variable]: value });
      } catch (err) {
        expect(err).toBeInstanceOf(UsageError);
        expect((err as Error).message).not.toContain(value);
      }
    }),
    { numRuns: 300 },
  );
});
