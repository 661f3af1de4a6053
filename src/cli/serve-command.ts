/** `airlock serve`: the approval HTTP API and web inbox. */
import { createApprovalServer, loadApproverTokens, type ApproverTokens } from '../server';
import { MIN_TOKEN_LENGTH } from '../server/auth';
import { loadSigningKey } from '../client/signing-keys';
import type { SigningKey } from '../core';
import { UsageError } from './args';
import { CliError, EXIT, connect, describeTarget, resolveTarget, stopRequested } from './context';
import type { Command } from './command';
import { payloadCodecFor, webUiOriginsOption } from './codec-setting';
import { exitOnSecondSignal } from './second-signal';

const log = (text: string) => process.stderr.write(`${text}\n`);

const NO_TOKENS =
  'No approver tokens configured. Set AIRLOCK_APPROVER_TOKENS="<token>=<name>,<token>=<name>" ' +
  'or pass --tokens-file <file.json> holding {"<token>": "<name>"}. Every decision is recorded under the name of the token that made it. ' +
  `A token has at least ${MIN_TOKEN_LENGTH} characters: make one with \`openssl rand -hex 16\`.`;

/** A positive whole number from a flag, or the default when the flag is absent. */
function positiveIntegerOption(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new UsageError(`--${flag} takes a positive whole number`);
  return number;
}

export const serveCommand: Command = {
  name: 'serve',
  usage:
    'airlock serve [--port <n> (default 8787)] [--host <address> (default 127.0.0.1)] [--tokens-file <file.json>]\n' +
    '              [--auth-failure-limit <n> (default 20)] [--auth-failure-window <seconds> (default 60)] [--signing-key <file>]\n' +
    '  --signing-key (or AIRLOCK_SIGNING_KEY): a service key (airlock keys create --service) that signs every decision relayed\n' +
    `  Approver tokens (at least ${MIN_TOKEN_LENGTH} characters): --tokens-file {"<token>": "<name>"} and/or env AIRLOCK_APPROVER_TOKENS="<token>=<name>,<token>=<name>"\n` +
    '  A client address that presents --auth-failure-limit invalid tokens within --auth-failure-window seconds gets 429 until the window ends.\n' +
    '  With codec keys (AIRLOCK_CODEC_KEYS / AIRLOCK_CODEC_KEYS_FILE) the Web UI codec endpoint is served at /codec/;\n' +
    '  --web-ui-origin <origin> (repeatable as a comma-separated list) lets that Web UI call it from a browser',
  summary: 'Serve the approval HTTP API and web inbox; approvers sign in with a token',
  spec: { options: ['port', 'host', 'tokens-file', 'auth-failure-limit', 'auth-failure-window', 'signing-key', 'web-ui-origin'] },
  async run(args, settings) {
    if (args.positionals.length) throw new UsageError('serve takes no positional arguments');
    const port = Number(args.options.port ?? 8787);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port takes a number from 0 to 65535');
    const host = args.options.host ?? '127.0.0.1';
    const authFailureLimit = positiveIntegerOption(args.options['auth-failure-limit'], 'auth-failure-limit', 20);
    const authFailureWindowMs = positiveIntegerOption(args.options['auth-failure-window'], 'auth-failure-window', 60) * 1000;
    let tokens: ApproverTokens;
    try {
      tokens = loadApproverTokens({ list: settings.approverTokens, file: args.options['tokens-file'] });
    } catch (err) {
      throw new CliError((err as Error).message);
    }
    if (tokens.approvers.length === 0) throw new CliError(NO_TOKENS);
    const signingKeyFile = settings.signingKeyFile;
    let signingKey: SigningKey | undefined;
    try {
      signingKey = signingKeyFile ? loadSigningKey(signingKeyFile) : undefined;
    } catch (err) {
      throw new CliError((err as Error).message);
    }
    if (signingKey && signingKey.kind !== 'service') throw new UsageError(`--signing-key needs a service key (airlock keys create --service); '${signingKey.keyId}' is ${signingKey.owner}'s own key`);

    const target = resolveTarget(settings);
    const payloadCodec = payloadCodecFor(target);
    const webUiOrigins = webUiOriginsOption(args.options['web-ui-origin']);
    const codec = payloadCodec && { payloadCodec, namespace: target.namespace, webUiOrigins };
    const { airlock, close } = await connect(target, 'airlock-approval-service', payloadCodec);
    const service = createApprovalServer({ client: airlock, tokens, log, authFailureLimit, authFailureWindowMs, signingKey, codec });
    const url = await service.listen({ port, host }).catch(async (err: Error) => {
      await close();
      throw new CliError(`Cannot listen on ${host}:${port} (${err.message})`);
    });
    process.stdout.write(`Approval inbox at ${url}/ (API ${url}/api/openapi.json)\n`);
    log(`Temporal ${describeTarget(target)}; approvers: ${tokens.approvers.join(', ')}`);
    log(signingKey ? `Decisions are signed with service key ${signingKey.keyId}.` : 'Decisions are not signed (no --signing-key): workers that require signatures will refuse them.');
    log(`Refused sign-ins are logged here; ${authFailureLimit} invalid tokens from one address within ${authFailureWindowMs / 1000} s get it 429 until the window ends.`);
    if (!['127.0.0.1', 'localhost', '::1'].includes(host)) log(`Serving plain HTTP on ${host}: put TLS in front of it before tokens cross a network.`);
    if (payloadCodec) log(`History is encrypted (key ${payloadCodec.currentKeyId}); Web UI codec endpoint ${url}/codec (sign in at ${url}/codec/), browsers allowed from: ${webUiOrigins.join(', ') || 'none (--web-ui-origin)'}.`);
    log('Ready. Ctrl-C to stop.');
    await stopRequested();
    // Draining: /readyz answers 503, new connections are refused, requests in progress finish; a second signal exits at once.
    exitOnSecondSignal();
    log('Stopping: finishing the requests in progress (Ctrl-C again to quit at once)...');
    await service.close();
    await close();
    return EXIT.ok;
  },
};
