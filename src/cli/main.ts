/** `airlock`: run workers and chats, script threads, decide interrupts, read the audit trail. */
import { quoteIfSafe } from '../core';
import { parseArgs, UsageError } from './args';
import { keysCommand } from './keys-command';
import { readSettings } from './config';
import { terminalSafe } from './terminal-text';
import type { Command } from './command';
import { CliError, EXIT } from './context';
import { chatCommand, devServerCommand, workerCommand } from './process-commands';
import { serveCommand } from './serve-command';
import { bundleCommand } from './bundle-command';
import { auditCommand, pendingCommand, sendCommand, showCommand, startCommand } from './thread-commands';
import { approveCommand, editCommand, grantsCommand, rejectCommand, respondCommand, revokeGrantCommand } from './decision-commands';

const COMMANDS: Command[] = [
  workerCommand,
  chatCommand,
  startCommand,
  sendCommand,
  pendingCommand,
  approveCommand,
  rejectCommand,
  editCommand,
  respondCommand,
  grantsCommand,
  revokeGrantCommand,
  showCommand,
  auditCommand,
  serveCommand,
  keysCommand,
  devServerCommand,
  bundleCommand,
];

const COMMON = `Options for every command:
  --address <host:port>   Temporal server (env TEMPORAL_ADDRESS, default localhost:7233)
  --namespace <name>      (env TEMPORAL_NAMESPACE, default default)
  --task-queue <name>     (env TEMPORAL_TASK_QUEUE, default airlock)
  --profile <name>        a profile of Temporal's config file (env TEMPORAL_PROFILE, default default)
  --config-file <file>    Temporal's TOML config file (env TEMPORAL_CONFIG_FILE, default
                          ~/.config/temporalio/temporal.toml if it exists); TLS and API keys: docs/connecting.md
  --help                  this command's help
Exit codes: 0 done, 1 failed, 2 bad usage, 3 decision refused.`;

function overview(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  return [
    'airlock — durable human-in-the-loop approval for AI agents, on Temporal',
    '',
    'Commands:',
    ...COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    '',
    'airlock <command> --help for its usage.',
    '',
    COMMON,
  ].join('\n');
}

const help = (command: Command) => `${command.summary}\n\nUsage: ${command.usage}\n\n${COMMON}`;

export async function runCli(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${overview()}\n`);
    return name ? EXIT.ok : EXIT.usage;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (!command) {
    process.stderr.write(`airlock: unknown command ${quoteIfSafe(name, 'command')}\n\n${overview()}\n`);
    return EXIT.usage;
  }
  try {
    const args = parseArgs(rest, command.spec);
    if (args.switches.has('help')) {
      process.stdout.write(`${help(command)}\n`);
      return EXIT.ok;
    }
    return await command.run(args, readSettings(args, process.env));
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`airlock ${name}: ${terminalSafe(err.message)}\n\nUsage: ${command.usage}\n`);
      return EXIT.usage;
    }
    if (err instanceof CliError) {
      process.stderr.write(`airlock ${name}: ${terminalSafe(err.message)}\n`);
      return err.exitCode;
    }
    process.stderr.write(`airlock ${name}: ${terminalSafe(err instanceof Error ? err.message : String(err))}\n`);
    return EXIT.failed;
  }
}
