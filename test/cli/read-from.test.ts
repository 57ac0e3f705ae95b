// `--from BACKEND` of `verify-run` and `audit`: the accepted names, and the exit-1 message when chains-config does
// not say where a backend is (never with a credential in it).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CliError } from '../../src/cli/errors.js';
import { parseFrom, readerFor, readFailure } from '../../src/cli/read-from.js';
import { DEFAULT_CONFIG } from '../../src/config/parse.js';
import { help as verifyRunHelp } from '../../src/cli/verify-run.js';
import { help as auditHelp } from '../../src/cli/audit.js';

test('--from: the readable backends (and all for verify-run); oci and unknown names are bad input', () => {
  assert.equal(parseFrom(undefined, true), 'tekton');
  assert.equal(parseFrom('GCS', true), 'gcs');
  assert.equal(parseFrom('all', true), 'all');
  assert.throws(
    () => parseFrom('all', false),
    (e: unknown) => e instanceof CliError && e.exitCode === 2,
  );
  assert.throws(
    () => parseFrom('oci', true),
    (e: unknown) => e instanceof CliError && e.exitCode === 2 && /chainsmith verify IMAGE/.test(e.message),
  );
  assert.throws(() => parseFrom('s3', true), /one of tekton, gcs, docdb, grafeas, kafka, archivista, all/);
});

test('a backend chains-config does not configure: exit 1 naming the key and the namespace', () => {
  for (const [backend, key] of [
    ['gcs', 'storage.gcs.bucket'],
    ['docdb', 'storage.docdb.url'],
    ['grafeas', 'storage.grafeas.projectid'],
    ['kafka', 'storage.pubsub.provider'],
    ['archivista', 'storage.archivista.url'],
  ] as const) {
    assert.throws(
      () => readerFor(backend, DEFAULT_CONFIG, 'tekton-chains'),
      (e: unknown) =>
        e instanceof CliError &&
        e.exitCode === 1 &&
        e.message.startsWith(`${backend} is not configured in chains-config (namespace tekton-chains): `) &&
        e.message.includes(key),
      backend,
    );
  }
});

test('a read failure names the backend and where, without the password', () => {
  const c = structuredClone(DEFAULT_CONFIG);
  c.storage.archivista.url = 'https://user:pa55word@arch.example';
  const reader = readerFor('archivista', c, 'tekton-chains');
  const msg = readFailure(reader, new Error('fetch https://user:pa55word@arch.example/query failed'));
  assert.match(msg, /^cannot read from archivista \(https:\/\/arch\.example\/\): /);
  assert.doesNotMatch(msg, /pa55word/);
});

test('--help names --from', () => {
  assert.match(verifyRunHelp, /--from BACKEND {5}tekton \(default\), gcs, docdb, grafeas, kafka, archivista or all/);
  assert.match(auditHelp, /--from BACKEND/);
});
