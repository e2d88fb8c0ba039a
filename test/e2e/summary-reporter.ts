import type { FullResult, Reporter, TestCase, TestResult } from '@playwright/test/reporter';

/**
 * Prints one plain closing line, `N passed, N failed, N skipped`, after the list reporter's summary,
 * so that a run is judged by a line any CI log reader understands. A test counts once, by its final
 * outcome (a test that passed on retry is "passed", a flaky one is reported as such by `list`).
 */
export default class SummaryReporter implements Reporter {
  #final = new Map<TestCase, TestResult['status']>();

  onTestEnd(test: TestCase, result: TestResult): void {
    this.#final.set(test, result.status);
  }

  onEnd(_result: FullResult): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const status of this.#final.values()) {
      if (status === 'passed') passed++;
      else if (status === 'skipped') skipped++;
      else failed++;
    }
    console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
  }

  printsToStdio(): boolean {
    return true;
  }
}
