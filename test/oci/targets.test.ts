import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simpleSigningTarget, statementTargets } from '../../src/storage/oci-targets.js';

const HEX = 'c'.repeat(64);

test('OCI subjects become targets; purl, maven, bare names and non-sha256 digests become notes', () => {
  const t = statementTargets({
    bytes: Buffer.from('{}'),
    kind: 'in-toto',
    subjects: [
      { name: '127.0.0.1:5000/demo/app', digest: { sha256: HEX } },
      { name: 'pkg:maven/org.example/lib@1.0', digest: { sha256: HEX } },
      { name: 'my-artifact', digest: { sha256: HEX } },
      { name: 'ghcr.io/org/app', digest: { sha512: 'd'.repeat(128) } },
      { name: '127.0.0.1:5000/demo/app', digest: { sha256: HEX } },
      { name: 'index.docker.io/library/ubuntu', digest: { sha256: HEX } },
    ],
  });
  assert.deepEqual(t.images, [
    { registry: '127.0.0.1:5000', repository: 'demo/app', digest: `sha256:${HEX}` },
    { registry: 'index.docker.io', repository: 'library/ubuntu', digest: `sha256:${HEX}` },
  ]);
  assert.equal(t.notes.length, 3);
  assert.match(t.notes[0]!, /pkg:maven.*not an OCI image/);
  assert.match(t.notes[2]!, /ghcr.io\/org\/app has no sha256 digest/);
});

test('subjects are read from the statement when the payload does not list them', () => {
  const statement = JSON.stringify({
    _type: 'https://in-toto.io/Statement/v0.1',
    subject: [{ name: 'gcr.io/p/app', digest: { sha256: HEX } }],
  });
  assert.deepEqual(statementTargets({ bytes: Buffer.from(statement), kind: 'in-toto' }).images, [
    { registry: 'gcr.io', repository: 'p/app', digest: `sha256:${HEX}` },
  ]);
});

test('the simple-signing target is docker-reference@docker-manifest-digest', () => {
  const payload = Buffer.from(
    `{"critical":{"identity":{"docker-reference":"127.0.0.1:5000/x/y"},"image":{"docker-manifest-digest":"sha256:${HEX}"},"type":"cosign container image signature"},"optional":null}`,
  );
  assert.deepEqual(simpleSigningTarget(payload, 'ignored'), {
    registry: '127.0.0.1:5000',
    repository: 'x/y',
    digest: `sha256:${HEX}`,
  });
  assert.deepEqual(simpleSigningTarget(Buffer.from('nope'), `ghcr.io/a/b@sha256:${HEX}`), {
    registry: 'ghcr.io',
    repository: 'a/b',
    digest: `sha256:${HEX}`,
  });
  assert.equal(simpleSigningTarget(Buffer.from('nope'), 'ghcr.io/a/b'), undefined);
});
