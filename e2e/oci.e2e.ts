// The registry client and the `oci` store against a real registry (Debian docker-registry, CHAINSMITH_REGISTRY),
// plus a loopback HTTP server in front of it for faults and auth challenges the test registry does not make.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { randomBytes } from 'node:crypto';
import { ChainsmithError } from '../src/errors.js';
import { RegistryClient, SMALL_BLOB_BYTES } from '../src/oci/client.js';
import { platformManifests } from '../src/oci/platforms.js';
import { StaticCredentialSource } from '../src/kube/registry-credentials.js';
import { KeyedMutex } from '../src/oci/keyed-mutex.js';
import { OciStorer } from '../src/storage/oci.js';
import { deleteManifest, fetchManifest, layersOf, pushRandomImage } from './lib/registry.js';
import {
  faultServer,
  provenancePayload,
  randomRepo,
  registryUnderTest,
  selfSignedCertificate,
  signedRequest,
  simpleSigningPayload,
  testConfig,
  testSigner,
} from './oci-support.js';

const REGISTRY = registryUnderTest();
const FAST = { attempts: 3, baseDelayMs: 10, maxDelayMs: 40 };
const hexOf = (digest: string) => digest.slice('sha256:'.length);

function storer(extra: Partial<ConstructorParameters<typeof OciStorer>[0]> = {}): OciStorer {
  return new OciStorer({ credentials: new StaticCredentialSource(), retry: FAST, ...extra });
}

test('client: chunked and monolithic uploads, cross-repository mount, HEAD and GET', async () => {
  const client = new RegistryClient({ registry: REGISTRY, chunkSize: 1000 });
  const repo = randomRepo();
  const big = randomBytes(4500);
  const digest = await client.uploadBlob(repo, big);
  assert.deepEqual(await client.getBlob(repo, digest), big);
  const small = randomBytes(10);
  const smallDigest = await client.ensureBlob(repo, small);
  assert.equal(await client.blobExists(repo, smallDigest), true);

  const other = randomRepo();
  assert.equal(await client.blobExists(other, digest), false);
  await client.ensureBlob(other, big, { mountFrom: repo });
  assert.deepEqual(await client.getBlob(other, digest), big);

  const image = await pushRandomImage(`${REGISTRY}/${repo}`, { mediaType: 'docker' });
  const head = await client.headManifest(repo, image.tag);
  assert.equal(head?.digest, image.digest);
  assert.equal(head?.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
  const got = await client.getManifest(repo, image.digest);
  assert.equal(got?.digest, image.digest);
  assert.equal(await client.getManifest(repo, 'no-such-tag'), undefined);
});

test('platformManifests lists the platform images of an index and nothing for a single image', async () => {
  const repo = `${REGISTRY}/${randomRepo()}`;
  const index = await pushRandomImage(repo, { mediaType: 'index' });
  assert.deepEqual(await platformManifests(index.ref), index.platformDigests);
  const single = await pushRandomImage(repo);
  assert.deepEqual(await platformManifests(single.ref), []);
});

test('image signature: a .sig tag with one simplesigning layer, and a retried (re-signed) store adds nothing', async () => {
  const { signer } = await testSigner();
  const image = await pushRandomImage(`${REGISTRY}/${randomRepo()}`);
  const repository = image.repository.slice(REGISTRY.length + 1);
  const payload = simpleSigningPayload(image.repository, image.digest);
  const s = storer();
  const first = await signedRequest(signer, payload, testConfig());
  await s.store(first);
  const retry = await signedRequest(signer, payload, testConfig());
  assert.notDeepEqual(retry.signed.signature, first.signed.signature, 'ECDSA re-signing gives new bytes');
  await s.store(retry);
  const layers = await layersOf(`${REGISTRY}/${repository}`, `sha256-${hexOf(image.digest)}.sig`);
  assert.equal(layers.length, 1);
  assert.equal(layers[0]?.mediaType, 'application/vnd.dev.cosign.simplesigning.v1+json');
  assert.equal(
    layers[0]?.annotations?.['dev.cosignproject.cosign/signature'],
    first.signed.signature.toString('base64'),
  );
  const client = new RegistryClient({ registry: REGISTRY });
  assert.deepEqual(await client.getBlob(repository, layers[0]!.digest), payload.bytes);
});

test('attestation: a retried store leaves one layer per statement; another statement is appended', async () => {
  const { signer } = await testSigner();
  const image = await pushRandomImage(`${REGISTRY}/${randomRepo()}`);
  const repository = image.repository.slice(REGISTRY.length + 1);
  const subject = [{ name: image.repository, digest: { sha256: hexOf(image.digest) } }];
  const s = storer();
  const statement = provenancePayload(subject, 'https://builder.example/a');
  await s.store(await signedRequest(signer, statement, testConfig()));
  await s.store(await signedRequest(signer, statement, testConfig()));
  const tag = `sha256-${hexOf(image.digest)}.att`;
  let layers = await layersOf(`${REGISTRY}/${repository}`, tag);
  assert.equal(layers.length, 1);
  assert.deepEqual(layers[0]?.annotations, {
    'dev.cosignproject.cosign/signature': '',
    predicateType: 'https://slsa.dev/provenance/v0.2',
  });
  assert.equal(layers[0]?.mediaType, 'application/vnd.dsse.envelope.v1+json');

  await s.store(await signedRequest(signer, provenancePayload(subject, 'https://builder.example/b'), testConfig()));
  layers = await layersOf(`${REGISTRY}/${repository}`, tag);
  assert.equal(layers.length, 2);
});

test('concurrent TaskRun and PipelineRun attestations to one .att tag keep both', async () => {
  const { signer } = await testSigner();
  const image = await pushRandomImage(`${REGISTRY}/${randomRepo()}`);
  const repository = image.repository.slice(REGISTRY.length + 1);
  const subject = [{ name: image.repository, digest: { sha256: hexOf(image.digest) } }];
  const s = storer();
  const requests = await Promise.all(
    ['taskrun', 'pipelinerun', 'taskrun-2', 'pipelinerun-2'].map((who) =>
      signedRequest(signer, provenancePayload(subject, `https://builder.example/${who}`), testConfig()),
    ),
  );
  await Promise.all(requests.map((r) => s.store(r)));
  const layers = await layersOf(`${REGISTRY}/${repository}`, `sha256-${hexOf(image.digest)}.att`);
  assert.equal(layers.length, 4);
  assert.equal(new Set(layers.map((l) => l.digest)).size, 4);
});

test('two storers sharing the lock map also serialise (storers rebuilt on config change)', async () => {
  const { signer } = await testSigner();
  const image = await pushRandomImage(`${REGISTRY}/${randomRepo()}`);
  const repository = image.repository.slice(REGISTRY.length + 1);
  const subject = [{ name: image.repository, digest: { sha256: hexOf(image.digest) } }];
  const locks = new KeyedMutex();
  const [a, b] = [storer({ locks }), storer({ locks })];
  const [ra, rb] = await Promise.all([
    signedRequest(signer, provenancePayload(subject, 'https://a'), testConfig()),
    signedRequest(signer, provenancePayload(subject, 'https://b'), testConfig()),
  ]);
  await Promise.all([a.store(ra), b.store(rb)]);
  assert.equal((await layersOf(`${REGISTRY}/${repository}`, `sha256-${hexOf(image.digest)}.att`)).length, 2);
});

test('several subjects: one push per OCI subject, non-OCI subjects are skipped with a note', async () => {
  const { signer } = await testSigner();
  const one = await pushRandomImage(`${REGISTRY}/${randomRepo()}`);
  const two = await pushRandomImage(`${REGISTRY}/${randomRepo()}`);
  const subjects = [
    { name: one.repository, digest: { sha256: hexOf(one.digest) } },
    { name: 'pkg:maven/org.example/lib@1.0', digest: { sha256: 'e'.repeat(64) } },
    { name: two.repository, digest: { sha256: hexOf(two.digest) } },
  ];
  const result = await storer().store(
    await signedRequest(signer, provenancePayload(subjects, 'https://b'), testConfig()),
  );
  assert.equal(result.notes?.length, 1);
  assert.match(result.notes![0]!, /pkg:maven\/org.example\/lib@1.0 is not an OCI image/);
  for (const img of [one, two]) {
    const layers = await layersOf(img.repository, `sha256-${hexOf(img.digest)}.att`);
    assert.equal(layers.length, 1, img.repository);
  }
});

test('storage.oci.repository puts signatures in the override repository, not next to the image', async () => {
  const { signer } = await testSigner();
  const image = await pushRandomImage(`${REGISTRY}/${randomRepo()}`);
  const sigRepo = randomRepo('signatures');
  const config = testConfig({ repository: `${REGISTRY}/${sigRepo}` });
  await storer().store(await signedRequest(signer, simpleSigningPayload(image.repository, image.digest), config));
  const tag = `sha256-${hexOf(image.digest)}.sig`;
  assert.equal((await layersOf(`${REGISTRY}/${sigRepo}`, tag)).length, 1);
  assert.equal((await layersOf(image.repository, tag)).length, 0);
});

// ---- faults: a loopback server that answers with failures, or forwards to the real registry ----

function forward(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  body: Buffer,
  proto: 'http' | 'https' = 'http',
): void {
  // Host and X-Forwarded-Proto as a reverse proxy sets them, so upload Locations point back at the proxy.
  const headers = { ...req.headers, 'x-forwarded-proto': proto };
  const upstream = http.request(
    { host: REGISTRY.split(':')[0], port: Number(REGISTRY.split(':')[1]), method: req.method, path: req.url, headers },
    (up) => {
      const headers = { ...up.headers };
      res.writeHead(up.statusCode ?? 502, headers);
      up.pipe(res);
    },
  );
  upstream.end(body);
}

/** A proxy to the real registry that lets `decide` answer a request itself first. */
async function proxy(
  decide: (req: http.IncomingMessage, res: http.ServerResponse, n: number) => boolean,
): Promise<{ registry: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (!decide(req, res, requests.length)) forward(req, res, Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as import('node:net').AddressInfo).port;
  return { registry: `127.0.0.1:${port}`, requests, close: () => new Promise<void>((r) => server.close(() => r())) };
}

async function attestationRequestFor(registry: string, signer: Awaited<ReturnType<typeof testSigner>>['signer']) {
  const subject = [{ name: `${registry}/faulty/app`, digest: { sha256: 'f'.repeat(64) } }];
  return signedRequest(signer, provenancePayload(subject, 'https://b'), testConfig());
}

test('a registry answering 503 is retried with backoff, then fails naming registry, repository and status', async () => {
  const { signer } = await testSigner();
  const server = await faultServer((_req, res) => {
    res.writeHead(503, { 'content-type': 'application/json' });
    res.end('{"errors":[{"code":"UNAVAILABLE","message":"maintenance"}]}');
  });
  try {
    await assert.rejects(storer().store(await attestationRequestFor(server.registry, signer)), (err: unknown) => {
      assert.ok(err instanceof ChainsmithError);
      assert.equal(err.reason, 'RegistryUnavailable');
      assert.equal(err.transient, true);
      assert.match(
        err.message,
        new RegExp(`registry ${server.registry}, repository faulty/app: GET manifest sha256-f{64}\\.att: HTTP 503`),
      );
      assert.match(err.message, /maintenance.*after 3 attempts/);
      return true;
    });
    assert.equal(server.requests.length, FAST.attempts);
  } finally {
    await server.close();
  }
});

test('401 without credentials → RegistryUnauthorized; 403 → RegistryForbidden; neither is retried', async () => {
  const { signer } = await testSigner();
  for (const [status, reason] of [
    [401, 'RegistryUnauthorized'],
    [403, 'RegistryForbidden'],
  ] as const) {
    const server = await faultServer((_req, res) => {
      res.writeHead(status, status === 401 ? { 'www-authenticate': 'Basic realm="test"' } : {});
      res.end();
    });
    try {
      await assert.rejects(storer().store(await attestationRequestFor(server.registry, signer)), (err: unknown) => {
        assert.ok(err instanceof ChainsmithError);
        assert.equal(err.reason, reason);
        assert.equal(err.transient, false);
        assert.match(err.message, new RegExp(`registry ${server.registry}, repository faulty/app: .*HTTP ${status}`));
        return true;
      });
      assert.equal(server.requests.length, 1, `${status} is not retried`);
    } finally {
      await server.close();
    }
  }
});

test('a registry that is down → RegistryUnavailable after retries', async () => {
  const { signer } = await testSigner();
  const server = await faultServer((_req, res) => res.end());
  const registry = server.registry;
  await server.close();
  await assert.rejects(storer().store(await attestationRequestFor(registry, signer)), (err: unknown) => {
    assert.ok(err instanceof ChainsmithError);
    assert.equal(err.reason, 'RegistryUnavailable');
    assert.match(
      err.message,
      new RegExp(`registry ${registry}, repository faulty/app: .*unreachable \\(ECONNREFUSED.*after 3 attempts`),
    );
    return true;
  });
});

test('transient 429/502 answers are retried and the store then succeeds', async () => {
  const { signer } = await testSigner();
  const image = await pushRandomImage(`${REGISTRY}/${randomRepo()}`);
  const repository = image.repository.slice(REGISTRY.length + 1);
  let failed = 0;
  const p = await proxy((req, res) => {
    // Fail the first attempt of every manifest/blob PUT once.
    if (req.method === 'PUT' && failed < 2) {
      failed++;
      res.writeHead(failed === 1 ? 429 : 502, { 'retry-after': '0' });
      res.end();
      return true;
    }
    return false;
  });
  try {
    const payload = simpleSigningPayload(`${p.registry}/${repository}`, image.digest);
    await storer().store(await signedRequest(signer, payload, testConfig()));
    assert.equal(failed, 2);
    assert.equal((await layersOf(`${REGISTRY}/${repository}`, `sha256-${hexOf(image.digest)}.sig`)).length, 1);
  } finally {
    await p.close();
  }
});

test('a manifest is never pushed when one of its blobs could not be uploaded', async () => {
  const { signer } = await testSigner();
  const image = await pushRandomImage(`${REGISTRY}/${randomRepo()}`);
  const repository = image.repository.slice(REGISTRY.length + 1);
  const p = await proxy((req, res) => {
    if (req.method === 'PUT' && req.url?.includes('/blobs/uploads/')) {
      res.writeHead(500);
      res.end();
      return true;
    }
    return false;
  });
  try {
    const payload = simpleSigningPayload(`${p.registry}/${repository}`, image.digest);
    await assert.rejects(storer().store(await signedRequest(signer, payload, testConfig())), /HTTP 500/);
    assert.equal(
      p.requests.filter((r) => r.startsWith('PUT') && r.includes('/manifests/')).length,
      0,
      p.requests.join('\n'),
    );
  } finally {
    await p.close();
  }
});

test('a fresh signature costs the registry 7 requests (no blob HEADs); storing it again costs 1', async () => {
  const { signer } = await testSigner();
  const image = await pushRandomImage(`${REGISTRY}/${randomRepo()}`);
  const repository = image.repository.slice(REGISTRY.length + 1);
  const p = await proxy(() => false);
  try {
    const payload = simpleSigningPayload(`${p.registry}/${repository}`, image.digest);
    await storer().store(await signedRequest(signer, payload, testConfig()));
    const shape = (r: string): string =>
      r
        .replace(/\/blobs\/uploads\/[^ ]*/, '/blobs/uploads/…')
        .replace(/sha256[-:][0-9a-f]{64}/g, 'D')
        .replace(`/v2/${repository}/`, '/');
    const pushed = p.requests.map(shape);
    // read the tag, upload the payload and config blobs (POST + PUT each), push the manifest, read it back
    assert.deepEqual(
      [...pushed].sort(),
      [
        'GET /manifests/D.sig',
        'GET /manifests/D.sig',
        'POST /blobs/uploads/…',
        'POST /blobs/uploads/…',
        'PUT /blobs/uploads/…',
        'PUT /blobs/uploads/…',
        'PUT /manifests/D.sig',
      ].sort(),
      p.requests.join('\n'),
    );
    assert.equal(pushed.filter((r) => r.startsWith('HEAD')).length, 0);
    p.requests.length = 0;
    await storer().store(await signedRequest(signer, payload, testConfig()));
    assert.deepEqual(p.requests.map(shape), ['GET /manifests/D.sig'], 'an already-signed image is one read');
    assert.equal((await layersOf(`${REGISTRY}/${repository}`, `sha256-${hexOf(image.digest)}.sig`)).length, 1);
  } finally {
    await p.close();
  }
});

test('a blob over 1 MiB, or one not marked fresh, is looked up before it is uploaded, so an existing one is not sent again', async () => {
  const repository = randomRepo();
  const p = await proxy(() => false);
  try {
    const client = new RegistryClient({ registry: p.registry });
    const big = randomBytes(SMALL_BLOB_BYTES + 1);
    await client.ensureBlob(repository, big, { fresh: true });
    assert.deepEqual(
      p.requests.map((r) => r.split(' ')[0]),
      ['HEAD', 'POST', 'PUT'],
      p.requests.join('\n'),
    );
    p.requests.length = 0;
    await client.ensureBlob(repository, big, { fresh: true });
    assert.deepEqual(
      p.requests.map((r) => r.split(' ')[0]),
      ['HEAD'],
      'the second time only asks',
    );

    // a small blob many writes share (like an empty config) is asked for first too
    p.requests.length = 0;
    const shared = Buffer.from('{}');
    await client.ensureBlob(repository, shared);
    assert.deepEqual(
      p.requests.map((r) => r.split(' ')[0]),
      ['HEAD', 'POST', 'PUT'],
      p.requests.join('\n'),
    );
    p.requests.length = 0;
    await client.ensureBlob(repository, shared);
    assert.deepEqual(
      p.requests.map((r) => r.split(' ')[0]),
      ['HEAD'],
      p.requests.join('\n'),
    );
  } finally {
    await p.close();
  }
});

test('a registry that refuses to re-upload a blob it already has (4xx) still gets the signature, using the existing blob', async () => {
  const { signer } = await testSigner();
  const image = await pushRandomImage(`${REGISTRY}/${randomRepo()}`);
  const repository = image.repository.slice(REGISTRY.length + 1);
  const tag = `sha256-${hexOf(image.digest)}.sig`;
  let refuse = false;
  const p = await proxy((req, res) => {
    if (refuse && req.method === 'PUT' && req.url?.includes('/blobs/uploads/')) {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end('{"errors":[{"code":"BLOB_UPLOAD_INVALID","message":"layer already exists"}]}');
      return true;
    }
    return false;
  });
  try {
    const request = await signedRequest(
      signer,
      simpleSigningPayload(`${p.registry}/${repository}`, image.digest),
      testConfig(),
    );
    await storer().store(request);
    // Untag the signature image (its blobs stay), so the same store has to push the manifest again.
    const manifest = await fetchManifest(`${REGISTRY}/${repository}`, tag);
    await deleteManifest(`${REGISTRY}/${repository}`, manifest!.digest);
    assert.equal(await fetchManifest(`${REGISTRY}/${repository}`, tag), undefined);

    refuse = true;
    p.requests.length = 0;
    await storer().store(request);
    assert.equal(
      p.requests.filter((r) => r.startsWith('HEAD') && r.includes('/blobs/')).length,
      2,
      p.requests.join('\n'),
    );
    const layers = await layersOf(`${REGISTRY}/${repository}`, tag);
    assert.equal(layers.length, 1);
    assert.equal(
      layers[0]?.annotations?.['dev.cosignproject.cosign/signature'],
      request.signed.signature.toString('base64'),
    );

    // A blob the registry does not have: the refusal is the error, and no manifest is pushed.
    const other = await pushRandomImage(`${REGISTRY}/${repository}`);
    p.requests.length = 0;
    const fresh = await signedRequest(
      signer,
      simpleSigningPayload(`${p.registry}/${repository}`, other.digest),
      testConfig(),
    );
    await assert.rejects(
      storer().store(fresh),
      (err: unknown) =>
        err instanceof ChainsmithError &&
        err.reason === 'RegistryError' &&
        /HTTP 400.*BLOB_UPLOAD_INVALID/.test(err.message),
    );
    assert.equal(
      p.requests.filter((r) => r.startsWith('PUT') && r.includes('/manifests/')).length,
      0,
      p.requests.join('\n'),
    );
  } finally {
    await p.close();
  }
});

test('Bearer token flow: challenge, token with repository:R:pull,push scope, cached across requests', async () => {
  const { signer } = await testSigner();
  const image = await pushRandomImage(`${REGISTRY}/${randomRepo()}`);
  const repository = image.repository.slice(REGISTRY.length + 1);
  const tokenRequests: URL[] = [];
  let realm = '';
  const p = await proxy((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/token') {
      tokenRequests.push(url);
      const expected = `Basic ${Buffer.from('robot:s3cret').toString('base64')}`;
      if (req.headers.authorization !== expected) {
        res.writeHead(401);
        res.end();
        return true;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ token: `tok-${url.searchParams.getAll('scope').join('+')}`, expires_in: 300 }));
      return true;
    }
    if (!req.headers.authorization?.startsWith('Bearer tok-')) {
      res.writeHead(401, {
        'www-authenticate': `Bearer realm="${realm}",service="test-registry",scope="repository:${repository}:pull"`,
      });
      res.end();
      return true;
    }
    return false;
  });
  realm = `http://${p.registry}/token`;
  try {
    const config = testConfig();
    const auth = Buffer.from('robot:s3cret').toString('base64');
    const s = new OciStorer({
      credentials: new StaticCredentialSource([{ auths: { [p.registry]: { auth } } }]),
      retry: FAST,
    });
    await s.store(
      await signedRequest(signer, simpleSigningPayload(`${p.registry}/${repository}`, image.digest), config),
    );
    assert.equal((await layersOf(`${REGISTRY}/${repository}`, `sha256-${hexOf(image.digest)}.sig`)).length, 1);
    const scopes = tokenRequests.map((u) => u.searchParams.getAll('scope').join(' '));
    assert.ok(scopes.includes(`repository:${repository}:pull,push`), scopes.join(' | '));
    assert.ok(tokenRequests.every((u) => u.searchParams.get('service') === 'test-registry'));
    // one token per scope set, not one per request
    assert.equal(new Set(scopes).size, scopes.length, tokenRequests.map(String).join(' | '));
    const tokenCount = tokenRequests.length;
    await s.store(
      await signedRequest(signer, simpleSigningPayload(`${p.registry}/${repository}`, image.digest), config),
    );
    assert.equal(tokenRequests.length, tokenCount, 'tokens are reused by the next store');

    const wrong = new OciStorer({
      credentials: new StaticCredentialSource([{ auths: { [p.registry]: { username: 'robot', password: 'nope' } } }]),
      retry: FAST,
    });
    await assert.rejects(
      wrong.store(
        await signedRequest(signer, simpleSigningPayload(`${p.registry}/${repository}`, image.digest), config),
      ),
      (err: unknown) => {
        assert.ok(err instanceof ChainsmithError);
        assert.equal(err.reason, 'RegistryUnauthorized');
        assert.match(err.message, /token request to http:\/\/127\.0\.0\.1:\d+\/token: HTTP 401/);
        return true;
      },
    );
  } finally {
    await p.close();
  }
});

test('Basic auth challenge: credentials from the Docker config are sent', async () => {
  const { signer } = await testSigner();
  const image = await pushRandomImage(`${REGISTRY}/${randomRepo()}`);
  const repository = image.repository.slice(REGISTRY.length + 1);
  const expected = `Basic ${Buffer.from('u:p').toString('base64')}`;
  const p = await proxy((req, res) => {
    if (req.headers.authorization === expected) return false;
    res.writeHead(401, { 'www-authenticate': 'Basic realm="registry"' });
    res.end();
    return true;
  });
  try {
    const s = new OciStorer({
      credentials: new StaticCredentialSource([
        { auths: { [`http://${p.registry}/v2/`]: { username: 'u', password: 'p' } } },
      ]),
      retry: FAST,
    });
    await s.store(
      await signedRequest(signer, simpleSigningPayload(`${p.registry}/${repository}`, image.digest), testConfig()),
    );
    assert.equal((await layersOf(`${REGISTRY}/${repository}`, `sha256-${hexOf(image.digest)}.sig`)).length, 1);
  } finally {
    await p.close();
  }
});

test('a TLS registry with a private CA: trusted with caBundle, refused without it, accepted with insecure', async () => {
  const { signer } = await testSigner();
  const image = await pushRandomImage(`${REGISTRY}/${randomRepo()}`);
  const repository = image.repository.slice(REGISTRY.length + 1);
  const { key, cert } = selfSignedCertificate();
  const seen: string[] = [];
  const server = https.createServer({ key, cert }, (req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => forward(req, res, Buffer.concat(chunks), 'https'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const registry = `127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}`;
  try {
    const payload = simpleSigningPayload(`${registry}/${repository}`, image.digest);
    await assert.rejects(storer().store(await signedRequest(signer, payload, testConfig())), (err: unknown) => {
      assert.ok(err instanceof ChainsmithError);
      assert.equal(err.reason, 'RegistryUnavailable');
      assert.match(
        err.message,
        new RegExp(`registry ${registry}, repository ${repository}: .*unreachable \\(DEPTH_ZERO_SELF_SIGNED_CERT`),
      );
      return true;
    });
    assert.equal(seen.length, 0, 'nothing is sent to an untrusted registry');

    await storer({ caBundle: cert }).store(await signedRequest(signer, payload, testConfig()));
    assert.ok(
      seen.some((r) => r.startsWith('PUT') && r.includes('/manifests/sha256-')),
      seen.join('\n'),
    );
    assert.equal((await layersOf(`${REGISTRY}/${repository}`, `sha256-${hexOf(image.digest)}.sig`)).length, 1);

    const before = seen.length;
    await storer().store(await signedRequest(signer, payload, testConfig({ insecure: true })));
    assert.ok(seen.length > before, 'insecure talks TLS without verification');
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
});
