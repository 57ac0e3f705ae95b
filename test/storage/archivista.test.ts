import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ChainsmithError } from '../../src/errors.js';
import { ArchivistaStorer, archivistaBody, gitoidOf } from '../../src/storage/archivista.js';
import { verifyEnvelope } from '../../src/sigstore/dsse.js';
import { attestationRequest, configWith, imageSignatureRequest, signingKey, taskRun } from './service-requests.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** An Archivista stand-in: /upload answers {"gitoid"} and refuses a second upload of a body as its database does. */
async function fakeArchivista(opts: { status?: number; answer?: string } = {}) {
  const blobs = new Map<string, Buffer>();
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (opts.status) {
        res.writeHead(opts.status).end(opts.answer ?? '');
        return;
      }
      const download = /\/download\/([0-9a-f]+)$/.exec(req.url ?? '');
      if (req.method === 'GET' && download) {
        const blob = blobs.get(download[1]!);
        res.writeHead(blob ? 200 : 404).end(blob ?? 'not found');
        return;
      }
      if (req.method === 'POST' && req.url?.endsWith('/upload')) {
        const gitoid = gitoidOf(body);
        if (blobs.has(gitoid)) {
          res
            .writeHead(500)
            .end('ERROR: duplicate key value violates unique constraint "dsses_gitoid_sha256_key" (SQLSTATE 23505)\n');
          return;
        }
        blobs.set(gitoid, body);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ gitoid }) + '\n');
        return;
      }
      res.writeHead(404).end('404 page not found');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, seen, blobs, close: () => new Promise<void>((r) => server.close(() => r())) };
}

test('gitoid: git blob id with SHA-256 (vector from `git hash-object` in a sha256 repository)', () => {
  assert.equal(gitoidOf(Buffer.from('{"a":1}\n')), '6a3f1306228185ab66278499e6bcae6e6c345628dde66314bf7333d9d651d1ec');
});

test('the upload body is the envelope as Chains re-encodes it: payload, payloadType, signatures; newline', async () => {
  const req = await attestationRequest();
  const env = JSON.parse(req.signed.signature.toString()) as {
    payloadType: string;
    payload: string;
    signatures: Array<{ keyid: string; sig: string }>;
  };
  const body = archivistaBody(req.signed.signature)!.toString();
  assert.equal(
    body,
    `{"payload":"${env.payload}","payloadType":"application/vnd.in-toto+json",` +
      `"signatures":[{"keyid":"${env.signatures[0]!.keyid}","sig":"${env.signatures[0]!.sig}"}]}\n`,
  );
  assert.equal(verifyEnvelope(body, signingKey).ok, true, 'still verifies with the signing key');
});

test('POST <url>/upload with the envelope; the gitoid Archivista returns becomes a note', async () => {
  const a = await fakeArchivista();
  try {
    const config = configWith({ 'storage.archivista.url': a.url });
    const req = await attestationRequest(taskRun, config);
    const result = await new ArchivistaStorer(config).store(req);
    assert.equal(a.seen.length, 1);
    assert.equal(a.seen[0]!.method, 'POST');
    assert.equal(a.seen[0]!.url, '/upload');
    assert.equal(a.seen[0]!.headers['content-type'], 'application/json');
    const gitoid = [...a.blobs.keys()][0]!;
    assert.deepEqual(result, { notes: [`archivista gitoid ${gitoid}`] });
    assert.equal(verifyEnvelope(a.blobs.get(gitoid)!, signingKey).ok, true);
  } finally {
    await a.close();
  }
});

test('a retry of a stored envelope (Archivista: duplicate key) counts as stored once its blob is found', async () => {
  const a = await fakeArchivista();
  try {
    const config = configWith({ 'storage.archivista.url': `${a.url}/` });
    const storer = new ArchivistaStorer(config);
    const req = await attestationRequest(taskRun, config);
    await storer.store(req);
    const again = await storer.store(req);
    assert.match(again.notes![0]!, /^archivista gitoid [0-9a-f]{64} \(already stored\)$/);
    assert.equal(a.blobs.size, 1);
  } finally {
    await a.close();
  }
});

test('image signatures are not DSSE: InvalidConfig saying to remove archivista from artifacts.oci.storage', async () => {
  const a = await fakeArchivista();
  try {
    const config = configWith({ 'storage.archivista.url': a.url });
    await assert.rejects(new ArchivistaStorer(config).store(imageSignatureRequest(config)), (err: ChainsmithError) => {
      assert.equal(err.reason, 'InvalidConfig');
      assert.match(err.message, /remove archivista from artifacts\.oci\.storage/);
      return true;
    });
    assert.equal(a.seen.length, 0);
  } finally {
    await a.close();
  }
});

test('a 5xx is a transient StorageFailed with the server words; a 4xx is not retried', async () => {
  for (const [status, transient] of [
    [503, true],
    [400, false],
  ] as const) {
    const a = await fakeArchivista({ status, answer: 'failed creating schema resources' });
    try {
      const config = configWith({ 'storage.archivista.url': a.url });
      await assert.rejects(
        new ArchivistaStorer(config).store(await attestationRequest(taskRun, config)),
        (err: ChainsmithError) => {
          assert.equal(err.reason, 'StorageFailed');
          assert.equal(err.transient, transient);
          assert.match(
            err.message,
            new RegExp(
              `^archivista: uploading taskrun-[0-9a-f-]+ to ${a.url}/: HTTP ${status}: failed creating schema`,
            ),
          );
          return true;
        },
      );
    } finally {
      await a.close();
    }
  }
});

test('an unreachable server is transient; credentials in the URL become basic auth and never appear in messages', async () => {
  const a = await fakeArchivista();
  const port = new URL(a.url).port;
  try {
    const config = configWith({ 'storage.archivista.url': `http://chains:s3cret@127.0.0.1:${port}` });
    await new ArchivistaStorer(config).store(await attestationRequest(taskRun, config));
    assert.equal(a.seen[0]!.headers.authorization, `Basic ${Buffer.from('chains:s3cret').toString('base64')}`);
  } finally {
    await a.close();
  }
  const config = configWith({ 'storage.archivista.url': `http://chains:s3cret@127.0.0.1:${port}` });
  await assert.rejects(
    new ArchivistaStorer(config).store(await attestationRequest(taskRun, config)),
    (err: ChainsmithError) => {
      assert.equal(err.transient, true);
      assert.doesNotMatch(err.message, /s3cret/);
      assert.match(err.message, /ECONNREFUSED|fetch failed/);
      return true;
    },
  );
});

test('no URL (or not http) is InvalidConfig, as Chains refuses to build the backend without one', async () => {
  for (const url of [undefined, 'ftp://archivista.example']) {
    const config = configWith(url ? { 'storage.archivista.url': url } : {});
    await assert.rejects(new ArchivistaStorer(config).store(await attestationRequest()), { reason: 'InvalidConfig' });
  }
});
