// Copies the web inbox's static files next to the compiled server (tsc copies only what it compiles).
const { cpSync, rmSync } = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const from = path.join(root, 'src', 'server', 'inbox');
const to = path.join(root, 'dist', 'src', 'server', 'inbox');
rmSync(to, { recursive: true, force: true });
cpSync(from, to, { recursive: true });
