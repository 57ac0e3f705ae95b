// Regressions found by the fuzz suite's long run (seed 7): values quoted from an input file must not break an
// error message over several lines, and odd shapes must give a clear error rather than a TypeError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configDataFromText } from '../../src/config/parse.js';
import { loadClusterConnection } from '../../src/kube/kubeconfig.js';
import { parseRunDocuments } from '../../src/tekton/read.js';

test('a run file whose kind holds a newline is refused in one line, the kind escaped', () => {
  const doc = JSON.stringify({ apiVersion: 'tekton.dev/v1', kind: 'x\nVERIFIED', metadata: { name: 'r' } });
  assert.throws(
    () => parseRunDocuments(doc),
    (err: Error) => !err.message.includes('\n') && err.message.includes('is a x\\nVERIFIED,'),
  );
});

test('a chains-config whose kind is a list or holds a carriage return is refused in one line', () => {
  for (const kind of [['carriage\r'], 'carriage\r']) {
    const text = JSON.stringify({ apiVersion: 'v1', kind, metadata: { name: 'chains-config' }, data: {} });
    assert.throws(
      () => configDataFromText(text, 'cfg.yaml'),
      (err: Error) => /^cfg\.yaml: is a .*expected a ConfigMap$/.test(err.message) && !/[\r\n]/.test(err.message),
    );
  }
});

test('a kubeconfig exec plugin with a null env entry is refused with a clear error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'exec-env-'));
  const file = join(dir, 'kubeconfig');
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:6443' } }],
      users: [
        { name: 'u', user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'p', env: [null] } } },
      ],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'x',
    }),
  );
  assert.throws(() => loadClusterConnection(file), /exec plugin has env\[0\] that is not \{name, value\} strings/);
});
