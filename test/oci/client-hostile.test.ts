// The registry client against a malicious registry (a loopback node:http server): answers that try to steer
// requests outside /v2/<name>/, oversized or endless bodies, slow answers and hostile token realms. Each must
// end in an error, and no request outside /v2/<name>/ may carry the registry credentials.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { RegistryClient } from '../../src/oci/client.js';
import { ChainsmithError } from '../../src/errors.js';
import { Deadline } from '../../src/oci/limits.js';
import { hostileRegistry, HOSTILE_PASSWORD } from './hostile-registry.js';

const REPO = 'team/app';
const HEX = 'a'.repeat(64);
const DIGEST = `sha256:${HEX}`;
const FAST_RETRY = { attempts: 2, baseDelayMs: 10, maxDelayMs: 20 };

type Options = Partial<ConstructorParameters<typeof RegistryClient>[0]>;
const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';

function client(registry: string, dockerConfig: object, extra: Options = {}): RegistryClient {
  return new RegistryClient({ registry, dockerConfigs: [dockerConfig], retry: FAST_RETRY, ...extra });
}

function isRegistryError(e: unknown): boolean {
  return e instanceof ChainsmithError && /^Registry/.test(e.reason) && !e.message.includes(HOSTILE_PASSWORD);
}

/** A registry error (never naming the password) whose message matches `why`. */
function registryError(why: RegExp): (e: unknown) => boolean {
  return (e) => isRegistryError(e) && why.test((e as Error).message);
}

test('a Docker-Content-Digest with path segments and a query is refused, and nothing leaves /v2/<name>/', async () => {
  const reg = await hostileRegistry((_req, res) => {
    const digest = `${DIGEST}/../../escape/admin?x=`;
    res.writeHead(200, { 'docker-content-digest': digest, 'content-length': '2', 'content-type': MANIFEST_TYPE });
    res.end();
  });
  try {
    const c = client(reg.registry, reg.dockerConfig);
    await assert.rejects(c.headManifest(REPO, 'latest'), registryError(/Docker-Content-Digest/));
    assert.deepEqual(reg.leaks(REPO), []);
  } finally {
    await reg.close();
  }
});

test('an upload Location outside /v2/<name>/blobs/uploads/ is not followed: no credentials go there', async () => {
  const locations = [
    '/escape/admin/upload',
    '/v2/team/app/blobs/uploads/../../../../escape/admin',
    '/v2/team/app/blobs/uploads/%2e%2e%2f%2e%2e%2fescape',
    '/v2/other/repo/blobs/uploads/x',
  ];
  for (const location of locations) {
    const reg = await hostileRegistry((req, res) => {
      if (req.method === 'POST') res.writeHead(202, { location, 'content-length': '0' });
      else res.writeHead(201, { 'content-length': '0' });
      res.end();
    });
    try {
      const upload = client(reg.registry, reg.dockerConfig).uploadBlob(REPO, Buffer.from('payload'));
      await assert.rejects(upload, registryError(/Location/), location);
      assert.deepEqual(reg.leaks(REPO), [], location);
      assert.deepEqual(
        reg.seen.filter((r) => r.method === 'PUT'),
        [],
        `${location}: no upload was sent`,
      );
    } finally {
      await reg.close();
    }
  }
});

test('an upload Location on another origin is not followed at all', async () => {
  const reg = await hostileRegistry((req, res, port) => {
    // `localhost` is this very server under another origin: any request that arrives for it is recorded.
    const location = `http://localhost:${port}/v2/team/app/blobs/uploads/s1`;
    if (req.method === 'POST') res.writeHead(202, { location, 'content-length': '0' });
    else res.writeHead(201, { 'content-length': '0' });
    res.end();
  });
  try {
    const upload = client(reg.registry, reg.dockerConfig).uploadBlob(REPO, Buffer.from('payload'));
    await assert.rejects(upload, registryError(/another origin/));
    assert.deepEqual(
      reg.seen.filter((r) => r.method === 'PUT'),
      [],
    );
  } finally {
    await reg.close();
  }
});

test('a redirect to another path of the registry host does not carry the credentials', async () => {
  const reg = await hostileRegistry((req, res) => {
    if (req.url!.startsWith('/v2/')) res.writeHead(307, { location: '/escape/admin?steal=1', 'content-length': '0' });
    else res.writeHead(200, { 'content-type': 'application/json', 'content-length': '2' });
    res.end(req.url!.startsWith('/v2/') ? undefined : '{}');
  });
  try {
    await client(reg.registry, reg.dockerConfig)
      .getManifest(REPO, 'latest')
      .catch(() => undefined);
    const followed = reg.seen.some((r) => r.url.startsWith('/escape/'));
    assert.ok(followed, 'the redirect itself is followed (blob storage uses them)');
    assert.deepEqual(reg.leaks(REPO), []);
  } finally {
    await reg.close();
  }
});

/** Writes `chunk` again and again (up to 1 GiB) until the client goes away; `count` sees each write. */
function streamEndlessly(res: ServerResponse, chunk: Buffer, count: (bytes: number) => number): void {
  let total = 0;
  const pump = (): void => {
    while (!res.destroyed && total < 1024 * 1024 * 1024) {
      total = count(chunk.length);
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
  };
  pump();
}

test('a manifest over 4 MiB, or an endless one, is refused while it streams', async () => {
  let written = 0;
  const reg = await hostileRegistry(
    (req, res) => {
      res.writeHead(200, { 'content-type': MANIFEST_TYPE });
      if (req.url!.includes('big')) {
        res.end(Buffer.alloc(5 * 1024 * 1024, 0x20));
        return;
      }
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      streamEndlessly(res, chunk, (n) => (written += n));
    },
    { challenge: false },
  );
  try {
    const c = client(reg.registry, {});
    await assert.rejects(c.getManifest(REPO, 'big'), registryError(/larger than 4194304 bytes/));
    await assert.rejects(c.getManifest(REPO, 'endless'), registryError(/larger than 4194304 bytes/));
    assert.ok(written < 64 * 1024 * 1024, `the endless body was abandoned early (${written} bytes written)`);
  } finally {
    await reg.close();
  }
});

test('an endless error body is cut at 64 KiB: the status is reported at once and the rest is never read', async () => {
  let written = 0;
  const reg = await hostileRegistry(
    (_req, res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      const chunk = Buffer.from(`{"errors":[{"code":"DENIED","message":"${'x'.repeat(64 * 1024)}`);
      streamEndlessly(res, chunk, (n) => (written += n));
    },
    { challenge: false },
  );
  try {
    const short = (e: unknown): boolean => registryError(/HTTP 400/)(e) && (e as Error).message.length < 1000;
    await assert.rejects(client(reg.registry, {}).getManifest(REPO, 'latest'), short);
    assert.ok(written < 64 * 1024 * 1024, `the error body was abandoned early (${written} bytes written)`);
  } finally {
    await reg.close();
  }
});

test('a server that trickles a body fails the request at its total deadline', async () => {
  const reg = await hostileRegistry(
    (_req, res) => {
      res.writeHead(200, { 'content-type': MANIFEST_TYPE });
      const t = setInterval(() => (res.destroyed ? clearInterval(t) : res.write(' ')), 50);
      res.on('close', () => clearInterval(t));
    },
    { challenge: false },
  );
  try {
    const started = Date.now();
    const c = client(reg.registry, {}, { timeoutMs: 800, retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
    await assert.rejects(c.getManifest(REPO, 'latest'), isRegistryError);
    assert.ok(Date.now() - started < 5000, `${Date.now() - started} ms`);
  } finally {
    await reg.close();
  }
});

test('slow requests and retries cannot add up beyond the operation deadline', async () => {
  const reg = await hostileRegistry(() => undefined /* never answers */, { challenge: false });
  try {
    const started = Date.now();
    const retry = { attempts: 10, baseDelayMs: 50, maxDelayMs: 100 };
    const c = client(reg.registry, {}, { timeoutMs: 600, retry, deadline: new Deadline(1500) });
    const transient = (e: unknown): boolean =>
      e instanceof ChainsmithError && e.reason === 'RegistryUnavailable' && e.transient;
    await assert.rejects(c.getManifest(REPO, 'latest'), transient);
    // without the operation deadline: 10 attempts × 600 ms plus back-off, over 6 s
    assert.ok(Date.now() - started < 3500, `${Date.now() - started} ms`);
  } finally {
    await reg.close();
  }
});

test('a referrers index with more than 1,000 entries is refused before any entry is read', async () => {
  const manifests = Array.from({ length: 5000 }, (_, i) => ({
    mediaType: MANIFEST_TYPE,
    size: 10,
    digest: `sha256:${createHash('sha256').update(String(i)).digest('hex')}`,
    artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
  }));
  const reg = await hostileRegistry(
    (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.index.v1+json' });
      res.end(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }));
    },
    { challenge: false },
  );
  try {
    const referrers = client(reg.registry, {}).referrers(REPO, DIGEST);
    await assert.rejects(referrers, registryError(/5000 manifests; at most 1000/));
    assert.equal(reg.seen.length, 1);
  } finally {
    await reg.close();
  }
});

test('a token realm that is not a plain http(s) URL gets no credentials', async () => {
  for (const realm of ['ftp://127.0.0.1/token', 'http://user:pw@127.0.0.1:1/token', 'file:///etc/passwd']) {
    const reg = await hostileRegistry(
      (_req, res) => {
        res.writeHead(401, { 'www-authenticate': `Bearer realm="${realm}",service="x"`, 'content-length': '0' });
        res.end();
      },
      { challenge: false },
    );
    try {
      const c = client(reg.registry, reg.dockerConfig);
      await assert.rejects(c.getManifest(REPO, 'latest'), registryError(/token realm/), realm);
      assert.deepEqual(
        reg.seen.filter((r) => r.authorization !== undefined),
        [],
        realm,
      );
    } finally {
      await reg.close();
    }
  }
});

test('a token answer that is not a header-safe token is refused', async () => {
  const reg = await hostileRegistry(
    (req, res, port) => {
      if (req.url!.startsWith('/token')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ token: 'abc\r\nX-Injected: 1' }));
        return;
      }
      const challenge = `Bearer realm="http://127.0.0.1:${port}/token",service="x"`;
      res.writeHead(401, { 'www-authenticate': challenge, 'content-length': '0' });
      res.end();
    },
    { challenge: false },
  );
  try {
    const c = client(reg.registry, reg.dockerConfig);
    await assert.rejects(c.getManifest(REPO, 'latest'), registryError(/malformed token/));
  } finally {
    await reg.close();
  }
});

test('requests are built from validated parts only: bad repositories, tags, digests never reach the wire', async () => {
  const reg = await hostileRegistry((_req, res) => res.end(), { challenge: false });
  try {
    const c = client(reg.registry, {});
    const bad = [
      ['../escape', 'latest'],
      ['team/app', '../../escape'],
      ['team/app', 'sha256:abc?x=1'],
      ['team//app', 'latest'],
      ['team/app', `${DIGEST}#f`],
    ] as const;
    for (const [repo, ref] of bad) {
      await assert.rejects(c.getManifest(repo, ref), isRegistryError, `${repo} ${ref}`);
    }
    await assert.rejects(c.getBlob(REPO, `${DIGEST}/../../x`), isRegistryError);
    assert.deepEqual(reg.seen, []);
  } finally {
    await reg.close();
  }
});
