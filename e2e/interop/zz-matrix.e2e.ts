// Runs last (e2e/run.sh): the interop matrix in docs/compatibility.md must be what this e2e run showed. A cell the
// docs claim and no test recorded, or a result that changed, fails here; `npm run interop:matrix` rewrites the table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readResults, resultsFile } from '../lib/interop.js';
import { documentedMatrix, renderMatrix } from './matrix.js';

test('docs/compatibility.md shows the interop matrix this e2e run produced', () => {
  const records = readResults();
  assert.ok(records.length > 0, `no interop results in ${resultsFile()}: the verifier suites did not run`);
  const { text, missing } = renderMatrix(records);
  assert.deepEqual(missing, [], 'every matrix cell must be shown by a test in this run');
  const documented = documentedMatrix();
  assert.ok(documented !== undefined, 'docs/compatibility.md has no interop-matrix markers');
  assert.equal(documented, text, 'the documented interop matrix is out of date: run `npm run interop:matrix`');
});
