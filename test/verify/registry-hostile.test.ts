// `verify` against a malicious registry (a loopback node:http server): a `.sig` image with 100,000 layers, layer
// digests that are paths, and a tag that resolves to a "digest" with path segments. Verification ends in bounded
// time with "not verified" or an error, and no request outside /v2/<name>/ carries the registry credentials.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { RegistryClient } from '../../src/oci/client.js';
import { parseReference } from '../../src/reference/reference.js';
import { verifyImage } from '../../src/verify/registry.js';
import { hostileRegistry, HOSTILE_PASSWORD } from '../oci/hostile-registry.js';

const IMAGE = Buffer.from('{"schemaVersion":2}');
const DIGEST = `sha256:${createHash('sha256').update(IMAGE).digest('hex')}`;
const SIG_TAG = `${DIGEST.replace(':', '-')}.sig`;
const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const POLICY = { requireAttestation: false };
const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';
const SIMPLESIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';

function sigManifest(layers: unknown[]): Buffer {
  const config = { mediaType: 'application/vnd.oci.image.config.v1+json', size: 2, digest: `sha256:${'c'.repeat(64)}` };
  return Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MANIFEST_TYPE, config, layers }));
}

/** A registry holding the image and a `.sig` manifest; everything else 404. Counts blob requests. */
async function registryWith(sig: Buffer) {
  return hostileRegistry((req, res) => {
    const url = req.url!;
    if (url === `/v2/team/app/manifests/${DIGEST}`) {
      const length = String(IMAGE.length);
      res.writeHead(200, { 'content-type': MANIFEST_TYPE, 'docker-content-digest': DIGEST, 'content-length': length });
      res.end(req.method === 'HEAD' ? undefined : IMAGE);
    } else if (url === `/v2/team/app/manifests/${SIG_TAG}`) {
      res.writeHead(200, { 'content-type': MANIFEST_TYPE, 'content-length': String(sig.length) });
      res.end(req.method === 'HEAD' ? undefined : sig);
    } else {
      res.writeHead(404, { 'content-length': '0' });
      res.end();
    }
  });
}

const TOO_MANY = 'a .sig manifest with too many layers (5,000) or bytes (100,000 layers) is refused up front';
test(`${TOO_MANY}: not verified, no layer fetched, no crash`, { timeout: 20_000 }, async () => {
  const layer = { mediaType: SIMPLESIGNING, size: 10, digest: `sha256:${'b'.repeat(64)}` };
  const cases = [
    [5_000, /5000 layers; at most 1000 are read/],
    [100_000, /larger than 4194304 bytes/],
  ] as const;
  for (const [count, why] of cases) {
    const reg = await registryWith(sigManifest(Array.from({ length: count }, () => layer)));
    try {
      const ref = parseReference(`${reg.registry}/team/app@${DIGEST}`)!;
      const client = new RegistryClient({ registry: reg.registry, dockerConfigs: [reg.dockerConfig] });
      const report = await verifyImage(ref, `${reg.registry}/team/app@${DIGEST}`, publicKey, POLICY, { client });
      assert.equal(report.verified, false);
      assert.match(JSON.stringify(report.signatures), why);
      assert.deepEqual(
        reg.seen.filter((r) => r.url.includes('/blobs/')),
        [],
        'no layer was fetched',
      );
    } finally {
      await reg.close();
    }
  }
});

test('layer digests that are paths are never requested; the .sig image is a failed item', async () => {
  const layer = { mediaType: SIMPLESIGNING, size: 10, digest: `sha256:${'b'.repeat(64)}/../../../../escape/admin?x=` };
  const reg = await registryWith(sigManifest([layer]));
  try {
    const ref = parseReference(`${reg.registry}/team/app@${DIGEST}`)!;
    const client = new RegistryClient({ registry: reg.registry, dockerConfigs: [reg.dockerConfig] });
    const report = await verifyImage(ref, `${reg.registry}/team/app@${DIGEST}`, publicKey, POLICY, { client });
    assert.equal(report.verified, false);
    assert.match(JSON.stringify(report.signatures), /no valid digest/);
    assert.deepEqual(reg.leaks('team/app'), []);
    assert.ok(!reg.seen.some((r) => r.url.includes('escape')));
  } finally {
    await reg.close();
  }
});

test('a tag resolving to a digest with path segments and a query stops verify; no credentials leave /v2/<name>/', async () => {
  const reg = await hostileRegistry((_req, res) => {
    const digest = `${DIGEST}/../../../../escape/admin?x=`;
    res.writeHead(200, { 'docker-content-digest': digest, 'content-type': MANIFEST_TYPE, 'content-length': '2' });
    res.end();
  });
  try {
    const ref = parseReference(`${reg.registry}/team/app:latest`)!;
    const client = new RegistryClient({ registry: reg.registry, dockerConfigs: [reg.dockerConfig] });
    const verifying = verifyImage(ref, `${reg.registry}/team/app:latest`, publicKey, POLICY, { client });
    await assert.rejects(verifying, (e: unknown) => e instanceof Error && !e.message.includes(HOSTILE_PASSWORD));
    assert.deepEqual(reg.leaks('team/app'), []);
  } finally {
    await reg.close();
  }
});
