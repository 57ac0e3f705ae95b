// The Fulcio client against answers no real Fulcio gives on purpose (a loopback server); the good path runs against
// the stack's real Fulcio in e2e/controller-keyless.e2e.ts.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { certificatesOf, FulcioClient } from '../../src/sigstore/fulcio.js';
import { KeylessSigner, keylessSignerFactory } from '../../src/sigstore/keyless.js';

let server: Server;
let url = '';
let answer: { status: number; body: string | Buffer } = { status: 200, body: '{}' };
let requests: Array<Record<string, unknown>> = [];
let otherCert = '';

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fulcio-test-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
      '-subj', '/CN=some other key', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'),
    ], { stdio: 'ignore' }); // prettier-ignore
    otherCert = readFileSync(join(dir, 'c.pem'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push(JSON.parse(Buffer.concat(chunks).toString() || '{}') as Record<string, unknown>);
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise((r) => server.close(r)));

const key = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });

test('the request is Fulcio v2’s: token, PEM public key, proof of possession', async () => {
  requests = [];
  answer = { status: 500, body: '{"code":13,"message":"boom"}' };
  const { publicKey, privateKey } = key();
  const proof = sign('sha256', Buffer.from('sub'), privateKey);
  await assert.rejects(new FulcioClient({ url }).signingCertificate('a.b.c', publicKey, proof), {
    reason: 'KeylessFailed',
    transient: true,
    message: /fulcio http:\/\/127\.0\.0\.1:\d+: HTTP 500: boom/,
  });
  const body = requests[0] as {
    credentials: { oidcIdentityToken: string };
    publicKeyRequest: { publicKey: { algorithm: string; content: string }; proofOfPossession: string };
  };
  assert.equal(body.credentials.oidcIdentityToken, 'a.b.c');
  assert.equal(body.publicKeyRequest.publicKey.algorithm, 'ECDSA');
  assert.match(body.publicKeyRequest.publicKey.content, /BEGIN PUBLIC KEY/);
  assert.equal(body.publicKeyRequest.proofOfPossession, proof.toString('base64'));
});

test('refusals, garbage, a certificate for another key and oversized answers are clear, bounded failures', async () => {
  const { publicKey } = key();
  const client = new FulcioClient({ url, maxResponseBytes: 4096 });
  const attempt = () => client.signingCertificate('a.b.c', publicKey, Buffer.from('p'));
  answer = { status: 400, body: '{"code":3,"message":"There was an error processing the identity token"}' };
  await assert.rejects(attempt(), {
    transient: false,
    message: /HTTP 400: There was an error processing the identity/,
  });
  answer = { status: 200, body: 'not json' };
  await assert.rejects(attempt(), { transient: false, message: /not a signing certificate: not JSON/ });
  answer = { status: 200, body: JSON.stringify({ signedCertificateEmbeddedSct: { chain: { certificates: [] } } }) };
  await assert.rejects(attempt(), { message: /no chain\.certificates/ });
  answer = { status: 200, body: JSON.stringify({ signedCertificateDetachedSct: { chain: { certificates: ['x'] } } }) };
  await assert.rejects(attempt(), { message: /not one PEM certificate/ });
  answer = {
    status: 200,
    body: JSON.stringify({ signedCertificateEmbeddedSct: { chain: { certificates: [otherCert] } } }),
  };
  await assert.rejects(attempt(), { message: /the certificate is for another public key/ });
  answer = { status: 200, body: Buffer.alloc(10_000, 0x61) };
  await assert.rejects(attempt(), { transient: false, message: /larger than 4096 bytes/ });
  assert.throws(() => new FulcioClient({ url: 'ftp://x' }), { reason: 'InvalidConfig' });
});

test('certificatesOf keeps the chain, leaf first, from either SCT form', () => {
  const body = (k: string) => Buffer.from(JSON.stringify({ [k]: { chain: { certificates: [otherCert, otherCert] } } }));
  assert.equal((certificatesOf(body('signedCertificateEmbeddedSct')) as string[]).length, 2);
  assert.equal((certificatesOf(body('signedCertificateDetachedSct')) as string[]).length, 2);
});

test('a keyless signer with a refused token names the token’s claims, never the token', async () => {
  answer = { status: 400, body: '{"code":3,"message":"There was an error processing the identity token"}' };
  const dir = mkdtempSync(join(tmpdir(), 'keyless-'));
  try {
    const claims = { iss: 'https://issuer.test', sub: 'system:serviceaccount:a:b', aud: 'other', exp: 4102444800 };
    const token = ['e30', Buffer.from(JSON.stringify(claims)).toString('base64url'), 'c2ln'].join('.');
    const file = join(dir, 'token');
    execFileSync('sh', ['-c', `printf %s "$1" > "$2"`, 'sh', token, file]);
    const signer = new KeylessSigner(new FulcioClient({ url }), { tokenFile: file });
    assert.equal(signer.cert(), '', 'no certificate before the first signature');
    const err = await signer.sign(Buffer.from('data')).then(
      () => new Error('signed'),
      (e: unknown) => e as Error,
    );
    assert.match(
      err.message,
      /HTTP 400: .*\(token from .*: iss https:\/\/issuer\.test, sub system:serviceaccount:a:b, aud other/,
    );
    assert.ok(!err.message.includes(token));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('keyless factory: a new signer per call, or one shared signer with reuse-certificate', () => {
  const factory = keylessSignerFactory();
  const cfg = { address: url, issuer: 'https://issuer.test', tokenFile: '/nonexistent' };
  assert.notEqual(factory(cfg), factory(cfg));
  const shared = factory({ ...cfg, reuseCertificate: true });
  assert.equal(factory({ ...cfg, reuseCertificate: true }), shared);
  const other = factory({ ...cfg, tokenFile: '/other', reuseCertificate: true });
  assert.notEqual(other, shared, 'another identity');
  // two tenants' identities signing in turn keep their own signers (and certificates)
  const tenant = (sa: string) => ({
    ...cfg,
    reuseCertificate: true,
    tokenFetch: { source: `a token of ServiceAccount team/${sa}`, get: async () => '' },
  });
  const a = factory(tenant('a'));
  const b = factory(tenant('b'));
  assert.notEqual(a, b);
  assert.equal(factory(tenant('a')), a);
  assert.equal(factory(tenant('b')), b);
  assert.equal(factory({ ...cfg, reuseCertificate: true }), shared, 'the file identity kept meanwhile');
});
