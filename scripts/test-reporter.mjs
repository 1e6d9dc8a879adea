// node:test reporter: one line per test, failure details at the end, and a closing line
// `N passed, N failed, N skipped` (the form CI reads).
import { relative } from 'node:path';

const indent = (n) => '  '.repeat(n);

export default async function* reporter(source) {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const failures = [];
  for await (const event of source) {
    const { type, data } = event;
    if (type === 'test:pass' || type === 'test:fail') {
      const isSuite = data.details?.type === 'suite';
      const ms = data.details?.duration_ms ?? 0;
      const where = data.file ? relative(process.cwd(), data.file) : '';
      if (type === 'test:fail' && !(isSuite && data.details?.error?.failureType === 'subtestsFailed')) {
        // A failing suite whose own hook or body threw (not just a failing subtest) counts too.
        failed += 1;
        failures.push({ name: data.name, where, error: data.details?.error });
        yield `${indent(data.nesting)}✗ ${data.name} (${ms.toFixed(0)} ms)\n`;
      } else if (isSuite) {
        yield `${indent(data.nesting)}▸ ${data.name}\n`;
      } else if (data.skip || data.todo) {
        skipped += 1;
        yield `${indent(data.nesting)}- ${data.name} (skipped${typeof data.skip === 'string' ? `: ${data.skip}` : ''})\n`;
      } else if (type === 'test:pass') {
        passed += 1;
        yield `${indent(data.nesting)}✓ ${data.name} (${ms.toFixed(0)} ms)\n`;
      }
    } else if (type === 'test:stderr' || type === 'test:stdout') {
      yield data.message;
    }
  }
  if (failures.length) {
    yield '\nFailures:\n';
    for (const f of failures) {
      const err = f.error?.cause ?? f.error;
      yield `\n✗ ${f.name} [${f.where}]\n${err?.stack ?? err?.message ?? String(err)}\n`;
    }
  }
  yield `\n${passed} passed, ${failed} failed, ${skipped} skipped\n`;
}
