/**
 * The dependency rule of docs/ARCHITECTURE.md, checked on the source: which folder of src/ may
 * import which, nothing under src/ imports scripts/ or bench/, and the folders form no cycle.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const SRC = path.join(__dirname, '../../src');

/** Folder → the folders it may import (besides itself). */
const ALLOWED: Record<string, string[]> = {
  core: [],
  workflows: ['core'],
  models: ['core'],
  tools: ['core'],
  agents: ['core', 'tools'],
  activities: ['core', 'agents', 'models', 'tools'],
  codec: ['core'],
  telemetry: ['core'],
  worker: ['core', 'activities', 'agents', 'models', 'tools', 'workflows', 'codec', 'telemetry'],
  client: ['core', 'codec'],
  server: ['core', 'client', 'codec'],
  devtools: ['core', 'worker'],
  cli: ['core', 'client', 'server', 'worker', 'activities', 'agents', 'models', 'tools', 'devtools', 'codec', 'telemetry'],
  testing: ['models'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return name.endsWith('.ts') ? [full] : [];
  });
}

function relativeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from|import|require(?:\.resolve)?\()\s*'(\.[^']*)'/g)].map((match) => match[1]);
}

const folderOf = (file: string) => path.relative(SRC, file).split(path.sep)[0];

test('every folder imports only what the dependency rule allows, and nothing outside src/', () => {
  const broken: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const from = folderOf(file);
    for (const specifier of relativeImports(file)) {
      const target = path.resolve(path.dirname(file), specifier);
      const relative = path.relative(SRC, target);
      if (relative.startsWith('..')) {
        broken.push(`${path.relative(SRC, file)} imports ${specifier} (outside src/)`);
        continue;
      }
      const to = relative.split(path.sep)[0];
      if (!(from in ALLOWED) || to === from || !(to in ALLOWED)) continue; // entry points (index.ts, main.ts) may import anything
      if (!ALLOWED[from].includes(to)) broken.push(`${path.relative(SRC, file)} imports ${specifier} (${from} → ${to})`);
    }
  }
  expect(broken).toEqual([]);
});

test('the allowed dependencies have no cycle', () => {
  const visiting = new Set<string>();
  const done = new Set<string>();
  const visit = (folder: string, trail: string[]): void => {
    if (done.has(folder)) return;
    if (visiting.has(folder)) throw new Error(`cycle: ${[...trail, folder].join(' → ')}`);
    visiting.add(folder);
    for (const next of ALLOWED[folder]) visit(next, [...trail, folder]);
    visiting.delete(folder);
    done.add(folder);
  };
  for (const folder of Object.keys(ALLOWED)) visit(folder, []);
  expect([...done].sort()).toEqual(Object.keys(ALLOWED).sort());
});

test('every folder of src/ is in the rule', () => {
  const folders = readdirSync(SRC).filter((name) => statSync(path.join(SRC, name)).isDirectory());
  expect(folders.sort()).toEqual(Object.keys(ALLOWED).sort());
});

test("the README's table of settings lists exactly the variables the programs read", () => {
  const { SETTINGS } = require('../../src/cli/config') as typeof import('../../src/cli/config');
  const readme = readFileSync(path.join(__dirname, '../../README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('## Settings'), readme.indexOf('## Security model'));
  const documented = [...table.matchAll(/^\| `([A-Z_]+\*?)` \|/gm)].map((match) => match[1]);
  expect(documented).toEqual(SETTINGS.map((setting) => setting.env));
});
