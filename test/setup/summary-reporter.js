// Prints jest's own counts as the closing line CI reads ("N passed, N failed") and keeps them in
// test-results/summary.json for .ci/run.
const fs = require('node:fs');
const path = require('node:path');

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const summary = {
      passed: results.numPassedTests,
      failed: results.numFailedTests + results.numRuntimeErrorTestSuites,
      skipped: results.numPendingTests + results.numTodoTests,
      suitesFailed: results.numFailedTestSuites,
    };
    const dir = path.join(__dirname, '..', '..', 'test-results');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'summary.json'), JSON.stringify(summary, null, 2));
    const skipped = summary.skipped ? `, ${summary.skipped} skipped` : '';
    process.stdout.write(`\n${summary.passed} passed, ${summary.failed} failed${skipped}\n`);
  }
}
module.exports = SummaryReporter;
