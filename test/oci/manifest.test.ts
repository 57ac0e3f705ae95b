// Manifests and indexes from a registry are validated before anything in them is used.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChainsmithError } from '../../src/errors.js';
import { MAX_INDEX_MANIFESTS, MAX_MANIFEST_LAYERS } from '../../src/oci/limits.js';
import { isIndex, parseManifest } from '../../src/oci/manifest.js';

const D = `sha256:${'a'.repeat(64)}`;
const DSSE = 'application/vnd.dsse.envelope.v1+json';
const layer = { mediaType: DSSE, size: 3, digest: D, annotations: { predicateType: 'x' } };
const config = { mediaType: 'application/vnd.oci.image.config.v1+json', size: 2, digest: D };
const manifest = (o: object) => Buffer.from(JSON.stringify({ schemaVersion: 2, config, layers: [layer], ...o }));

function refused(bytes: Buffer, why: RegExp): void {
  const named = (e: unknown): boolean =>
    e instanceof ChainsmithError &&
    e.reason === 'RegistryError' &&
    why.test(e.message) &&
    e.message.startsWith('reg/repo:tag');
  assert.throws(() => parseManifest(bytes, 'reg/repo:tag'), named);
}

test('a well-formed manifest keeps its descriptors; unknown members are dropped', () => {
  const m = parseManifest(manifest({ layers: [{ ...layer, extra: 'x' }] }));
  assert.ok(!isIndex(m));
  if (!isIndex(m)) assert.deepEqual(m.layers, [layer]);
});

test('layer and entry counts are limited before any descriptor is looked at', () => {
  const max = Array.from({ length: MAX_MANIFEST_LAYERS }, () => layer);
  assert.equal((parseManifest(manifest({ layers: max })) as { layers: unknown[] }).layers.length, MAX_MANIFEST_LAYERS);
  refused(manifest({ layers: [...max, layer] }), /1001 layers; at most 1000 are read/);
  const entries = Array.from({ length: MAX_INDEX_MANIFESTS + 1 }, () => config);
  refused(Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: entries })), /1001 manifests; at most 1000/);
});

test('descriptors with path-like digests, bad sizes, media types or annotations are refused', () => {
  const pathDigest = manifest({ layers: [{ ...layer, digest: `${D}/../../escape?x=` }] });
  refused(pathDigest, /layers\[0\]: descriptor has no valid digest/);
  refused(manifest({ layers: [{ ...layer, size: -1 }] }), /valid size/);
  refused(manifest({ layers: [{ ...layer, size: 1e300 }] }), /valid size/);
  refused(manifest({ layers: [{ ...layer, mediaType: 'text/html\r\nx: y' }] }), /mediaType/);
  refused(manifest({ layers: [{ ...layer, annotations: { a: 1 } }] }), /annotation "a" is not a string/);
  refused(manifest({ layers: [null] }), /not an object/);
  refused(manifest({ config: { ...config, digest: 'md5' } }), /config: descriptor has no valid digest/);
  refused(manifest({ schemaVersion: 1 }), /schemaVersion/);
  refused(Buffer.from('{"schemaVersion":2'), /not valid JSON/);
  refused(Buffer.from('[]'), /not a JSON object/);
});
