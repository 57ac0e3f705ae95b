import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiHost, attachmentTag, isLoopbackRegistry, parseReference, parseRepository, repositoryName } from '../../src/oci/reference.js';

const HEX = 'a'.repeat(64);

test('Docker Hub short names normalise to index.docker.io/library', () => {
  assert.deepEqual(parseReference('ubuntu'), { registry: 'index.docker.io', repository: 'library/ubuntu' });
  assert.deepEqual(parseReference('docker.io/ubuntu:22.04'), { registry: 'index.docker.io', repository: 'library/ubuntu', tag: '22.04' });
  assert.deepEqual(parseReference('tektoncd/chains'), { registry: 'index.docker.io', repository: 'tektoncd/chains' });
  assert.equal(repositoryName(parseReference('registry-1.docker.io/foo/bar')!), 'index.docker.io/foo/bar');
});

test('registries with ports, localhost and IPv6 keep their host', () => {
  assert.deepEqual(parseReference(`127.0.0.1:5000/demo/app@sha256:${HEX}`), { registry: '127.0.0.1:5000', repository: 'demo/app', digest: `sha256:${HEX}` });
  assert.deepEqual(parseReference('localhost/app:v1'), { registry: 'localhost', repository: 'app', tag: 'v1' });
  assert.deepEqual(parseReference('[::1]:5000/app'), { registry: '[::1]:5000', repository: 'app' });
  assert.deepEqual(parseReference(`gcr.io/p/app:v1@sha256:${HEX}`), { registry: 'gcr.io', repository: 'p/app', tag: 'v1', digest: `sha256:${HEX}` });
});

test('non-OCI names are rejected', () => {
  for (const bad of ['pkg:maven/org.example/lib@1.0', 'https://example.com/x', 'Upper/Case', '', 'a/b@sha256:short', 'gcs://bucket/obj']) {
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
  for (const r of ['127.0.0.1:5000', '127.3.2.1', 'localhost:8080', '[::1]:5000']) assert.equal(isLoopbackRegistry(r), true, r);
  for (const r of ['10.0.0.1:5000', 'ghcr.io', 'localhost.example.com']) assert.equal(isLoopbackRegistry(r), false, r);
  assert.equal(apiHost('index.docker.io'), 'registry-1.docker.io');
  assert.equal(apiHost('ghcr.io'), 'ghcr.io');
});
