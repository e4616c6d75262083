// Prints the suite's outcome as one plain closing line, `tests: N passed, N failed, N skipped`,
// the form CI reads in any language (jest's own summary has another shape).
'use strict';

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const { numPassedTests: passed, numFailedTests: failed, numPendingTests: skipped, numTodoTests: todo } = results;
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped + todo} skipped\n`);
  }
}

module.exports = SummaryReporter;
