#!/usr/bin/env node
const { runCli } = require('../dist/src/cli/main.js');

runCli(process.argv.slice(2)).then((code) => process.stdout.write('', () => process.exit(code)));
