import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseImageReference, parseReference, parseRepository, repositoryName } from '../../src/reference/reference.js';
import { ChainsmithError } from '../../src/errors.js';
import { apiHost, isLoopbackRegistry } from '../../src/oci/hosts.js';
import { attachmentTag } from '../../src/sigstore/cosign-layout.js';

const HEX = 'a'.repeat(64);

test('Docker Hub short names normalise to index.docker.io/library', () => {
  assert.deepEqual(parseReference('ubuntu'), { registry: 'index.docker.io', repository: 'library/ubuntu' });
  assert.deepEqual(parseReference('docker.io/ubuntu:22.04'), {
    registry: 'index.docker.io',
    repository: 'library/ubuntu',
    tag: '22.04',
  });
  assert.deepEqual(parseReference('tektoncd/chains'), { registry: 'index.docker.io', repository: 'tektoncd/chains' });
  // Named as go-containerregistry (and so Chains' subjects and cosign) name it; the client still talks to the Hub API.
  assert.equal(repositoryName(parseReference('registry-1.docker.io/foo/bar')!), 'registry-1.docker.io/foo/bar');
  assert.equal(apiHost('registry-1.docker.io'), 'registry-1.docker.io');
});

test('registries with ports, localhost and IPv6 keep their host', () => {
  assert.deepEqual(parseReference(`127.0.0.1:5000/demo/app@sha256:${HEX}`), {
    registry: '127.0.0.1:5000',
    repository: 'demo/app',
    digest: `sha256:${HEX}`,
  });
  assert.deepEqual(parseReference('localhost/app:v1'), { registry: 'localhost', repository: 'app', tag: 'v1' });
  assert.deepEqual(parseReference('[::1]:5000/app'), { registry: '[::1]:5000', repository: 'app' });
  assert.deepEqual(parseReference(`gcr.io/p/app:v1@sha256:${HEX}`), {
    registry: 'gcr.io',
    repository: 'p/app',
    tag: 'v1',
    digest: `sha256:${HEX}`,
  });
});

test('non-OCI names are rejected', () => {
  for (const bad of [
    'pkg:maven/org.example/lib@1.0',
    'https://example.com/x',
    'Upper/Case',
    '',
    'a/b@sha256:short',
    'gcs://bucket/obj',
  ]) {
    assert.equal(parseReference(bad), undefined, bad);
  }
});

test('a repository has neither tag nor digest', () => {
  assert.deepEqual(parseRepository('ghcr.io/org/sigs'), { registry: 'ghcr.io', repository: 'org/sigs' });
  assert.equal(parseRepository('ghcr.io/org/sigs:tag'), undefined);
});

test('cosign attachment tags', () => {
  assert.equal(attachmentTag(`sha256:${HEX}`, 'sig'), `sha256-${HEX}.sig`);
  assert.equal(attachmentTag(`sha256:${HEX}`, 'att'), `sha256-${HEX}.att`);
  assert.equal(attachmentTag(`sha256:${HEX}`, ''), `sha256-${HEX}`);
});

test('loopback registries and the Docker Hub API host', () => {
  for (const r of ['127.0.0.1:5000', '127.3.2.1', 'localhost:8080', '[::1]:5000'])
    assert.equal(isLoopbackRegistry(r), true, r);
  for (const r of ['10.0.0.1:5000', 'ghcr.io', 'localhost.example.com']) assert.equal(isLoopbackRegistry(r), false, r);
  assert.equal(apiHost('index.docker.io'), 'registry-1.docker.io');
  assert.equal(apiHost('ghcr.io'), 'ghcr.io');
});

test('the registry client and type hinting parse with one grammar: same verdict and same name for every input', () => {
  const D = `sha256:${HEX}`;
  const names = [
    'ubuntu',
    'docker.io/ubuntu',
    'registry-1.docker.io/foo/bar',
    'Registry.Example.com/app',
    'gcr.io/a',
    'gcr.io/ab',
    'registry/../escape',
    'registry.io/a//b',
    'registry.io/a%2e%2e',
    'reg_istry.io/a',
    '127.0.0.1:5000/x/y:v1',
    '[::1]:5000/app',
    'https://gcr.io/foo',
    'a.b:/x',
    'localhost/app:.bad',
    'localhost/app:ok_tag',
  ];
  for (const name of names) {
    const hinted = parseImageReference(`${name}@${D}`);
    const client = parseReference(`${name}@${D}`);
    assert.equal(client === undefined, hinted === undefined, name);
    if (client && hinted) assert.equal(repositoryName(client), hinted.repository, name);
  }
});

test('digests in references follow the grammar (algorithm:hex, at least 32 hex digits)', () => {
  assert.ok(parseReference(`gcr.io/a/b@sha512:${'b'.repeat(128)}`));
  const bad = [
    `sha256:${HEX}/../../escape/admin?x=`,
    'sha256:abc',
    `sha256:${'g'.repeat(64)}`,
    `:${HEX}`,
    `sha256:${HEX}#x`,
  ];
  for (const d of bad) {
    assert.equal(parseReference(`gcr.io/a/b@${d}`), undefined, d);
  }
});

test('attachment tags are only made from sha256 digests', () => {
  const invalid = (e: unknown): boolean => e instanceof ChainsmithError && e.reason === 'InvalidReference';
  assert.throws(() => attachmentTag(`sha512:${'b'.repeat(128)}`, 'sig'), invalid);
  assert.throws(() => attachmentTag(`sha256:${HEX}/../x`, 'sig'), ChainsmithError);
});

test('sha256 and sha512 digests are lowercase hex of their exact length, as the OCI image spec registers them', () => {
  assert.equal(parseReference(`gcr.io/a/b@sha256:${'A'.repeat(64)}`), undefined);
  assert.equal(parseReference(`gcr.io/a/b@sha256:${'a'.repeat(65)}`), undefined);
  assert.equal(parseReference(`gcr.io/a/b@sha512:${'a'.repeat(64)}`), undefined);
  assert.ok(parseReference(`gcr.io/a/b@blake3:${'a'.repeat(64)}`), 'other algorithms follow the grammar alone');
});
