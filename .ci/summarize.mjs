// Prints `N passed, N failed` from vitest's JSON report; a run that produced no report
// (type errors stop `npm test` before vitest) counts as one failure.
import { existsSync, readFileSync } from 'node:fs';

const [file, status] = process.argv.slice(2);
if (!existsSync(file)) {
  console.log(`npm test exited with ${status} before the test run`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const report = JSON.parse(readFileSync(file, 'utf8'));
const passed = report.numPassedTests ?? 0;
let failed = (report.numFailedTests ?? 0) + (report.numFailedTestSuites ?? 0);
if (Number(status) !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
