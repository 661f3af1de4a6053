/**
 * A jest reporter that ends the run with the time each test file took, slowest first, and one
 * closing line `tests: N passed, N failed` that any CI can read.
 */
class TimingReporter {
  onRunComplete(_contexts, results) {
    const files = results.testResults
      .map((file) => ({ file: file.testFilePath.replace(`${process.cwd()}/`, ''), ms: file.perfStats.end - file.perfStats.start, failed: file.numFailingTests > 0 || Boolean(file.testExecError) }))
      .sort((a, b) => b.ms - a.ms);
    const lines = ['', 'Time per test file, slowest first:'];
    for (const { file, ms, failed } of files) lines.push(`  ${(ms / 1000).toFixed(1).padStart(6)} s  ${file}${failed ? '  (failed)' : ''}`);
    process.stdout.write(`${lines.join('\n')}\n`);
    // The closing line, after jest's own summary.
    const closing = `tests: ${results.numPassedTests} passed, ${results.numFailedTests} failed${results.numPendingTests ? `, ${results.numPendingTests} skipped` : ''}`;
    process.once('exit', () => process.stdout.write(`\n${closing}\n`));
  }
}

module.exports = TimingReporter;
