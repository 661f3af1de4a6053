/** `npm run setup:temporal`: make sure both Temporal binaries are here, and say where they are. */
import { execFileSync } from 'node:child_process';
import { findTemporalBinary } from '../src/devtools/temporal-binaries';

const cli = findTemporalBinary('cli');
const testServer = findTemporalBinary('testServer');
const version = execFileSync(cli, ['--version'], { encoding: 'utf8' }).trim();
console.log(`temporal CLI:          ${cli} (${version})`);
console.log(`time-skipping server:  ${testServer}`);
