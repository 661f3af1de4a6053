// Builds only when the sources changed since the last build (npm start's prestart):
// `node scripts/build-stamp.js` compares the newest source file with dist/.build-stamp and runs
// `npm run build` when a source is newer or there is no stamp; `--write` (the end of `npm run build`) writes the stamp.
const { existsSync, readdirSync, statSync, writeFileSync } = require('node:fs');
const { execSync } = require('node:child_process');
const path = require('node:path');

const root = path.join(__dirname, '..');
const stamp = path.join(root, 'dist', '.build-stamp');
/** What the build reads: tsconfig's include (src, scripts, bench), the inbox's static files, the build's own settings. */
const sources = ['src', 'scripts', 'bench', 'tsconfig.json', 'package.json'];

function newestMtime(entry) {
  if (!existsSync(entry)) return 0;
  const stat = statSync(entry);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(entry).map((name) => newestMtime(path.join(entry, name))));
}

if (process.argv.includes('--write')) {
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
} else {
  const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
  const changed = Math.max(...sources.map((name) => newestMtime(path.join(root, name))));
  if (changed > built) {
    console.error(built ? 'Sources changed since the last build: building...' : 'No build yet: building...');
    execSync('npm run build', { cwd: root, stdio: 'inherit' });
  }
}
