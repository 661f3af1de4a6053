/** `airlock keys create`: an Ed25519 key pair for signing decisions. */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createSigningKey } from '../client/signing-keys';
import { UsageError } from './args';
import { CliError, EXIT } from './context';
import type { Command } from './command';

const out = (text: string) => process.stdout.write(`${text}\n`);

export const keysCommand: Command = {
  name: 'keys',
  usage:
    'airlock keys create --id <key id> --owner <approver name> [--service] [--out <dir> (default .)]\n' +
    '  Writes <id>.key.json (the private key, mode 600: keep it to yourself) and <id>.pub.json (the public\n' +
    "  key: add it to the workers' approver keys file, AIRLOCK_APPROVER_KEYS). An approver key signs for its\n" +
    '  owner only (airlock approve --key <id>.key.json); --service makes the approval service\'s key, which\n' +
    '  vouches for every approver it authenticates (airlock serve --signing-key <id>.key.json).',
  summary: 'Create a key pair for signed decisions',
  spec: { options: ['id', 'owner', 'out'], switches: ['service'] },
  async run(args) {
    if (args.positionals.length !== 1 || args.positionals[0] !== 'create') throw new UsageError("Expected 'create'");
    const keyId = args.options.id;
    const owner = args.options.owner;
    if (!keyId || !owner) throw new UsageError('--id and --owner are required');
    let pair: ReturnType<typeof createSigningKey>;
    try {
      pair = createSigningKey({ keyId, owner, kind: args.switches.has('service') ? 'service' : 'approver' });
    } catch {
      throw new UsageError('--id takes 1-64 letters, digits, _ . : or -; --owner a plain name of at most 100 characters');
    }
    const dir = path.resolve(args.options.out ?? '.');
    const privateFile = path.join(dir, `${keyId}.key.json`);
    const publicFile = path.join(dir, `${keyId}.pub.json`);
    if (existsSync(privateFile) || existsSync(publicFile)) throw new CliError(`${privateFile} or ${publicFile} exists already; choose another --id or --out`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(privateFile, `${JSON.stringify(pair.signingKey, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    writeFileSync(publicFile, `${JSON.stringify(pair.trustedKey, null, 2)}\n`, { flag: 'wx' });
    out(`Private key: ${privateFile} (mode 600)`);
    out(`Public key:  ${publicFile}`);
    out(`Trust it: add ${JSON.stringify(pair.trustedKey)} to the JSON list in the workers' approver keys file (--approver-keys / AIRLOCK_APPROVER_KEYS).`);
    return EXIT.ok;
  },
};
