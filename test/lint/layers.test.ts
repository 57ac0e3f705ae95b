// The layer rule of eslint.config.js, exercised through ESLint itself: a deliberate upward import fails the lint
// that .ci/run runs, a downward one passes, and every folder of src/ has a place in the order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { LAYERS } from '../../eslint.config.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const eslint = new ESLint({ cwd: ROOT });

async function importProblems(filePath: string, specifier: string): Promise<string[]> {
  const [result] = await eslint.lintText(`import { x } from '${specifier}';\nexport const y = x;\n`, { filePath });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

test('every folder of src/ is a layer, and every layer is a folder', () => {
  const folders = readdirSync(`${ROOT}src`, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  assert.deepEqual([...LAYERS].sort(), folders);
});

test('an upward import fails the lint: the registry client may not reach into the controller', async () => {
  const problems = await importProblems('src/oci/new-module.ts', '../controller/controller.js');
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /src\/oci is below .*controller.*: a lower layer never imports a higher one/);
});

test('an upward import from a nested folder fails too (signing/kms → sigstore)', async () => {
  const problems = await importProblems('src/signing/kms/new-module.ts', '../../sigstore/dsse.js');
  assert.equal(problems.length, 1);
});

test('the base layers import nothing above them (text → tekton is refused)', async () => {
  assert.equal((await importProblems('src/text/x.ts', '../tekton/types.js')).length, 1);
  assert.equal((await importProblems('src/errors-extra.ts', './cli/main.js')).length, 1);
});

test('downward and same-folder imports pass: storage may use oci, sigstore and tekton', async () => {
  for (const spec of ['../oci/client.js', '../sigstore/dsse.js', '../tekton/types.js', './storer.js', '../errors.js']) {
    assert.deepEqual(await importProblems('src/storage/new-module.ts', spec), [], spec);
  }
});

test('each layer may import every layer below it and none above', async () => {
  for (const [i, layer] of LAYERS.entries()) {
    for (const [j, other] of LAYERS.entries()) {
      if (other === layer) continue;
      const problems = await importProblems(`src/${layer}/m.ts`, `../${other}/m.js`);
      assert.equal(problems.length, j > i ? 1 : 0, `${layer} → ${other}`);
    }
  }
});
