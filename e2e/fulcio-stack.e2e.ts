// Proves the stack's Fulcio (e2e/stack/addons/fulcio-up.sh) issues keyless-signing certificates for the stack's own
// Kubernetes identities: the kube-apiserver serves anonymous OIDC discovery as OIDC_ISSUER; a ServiceAccount token from
// the TokenRequest API (audience `sigstore`) gets a certificate from /api/v2/signingCert whose URI SAN is the
// ServiceAccount and which chains to FULCIO_ROOT; a token for another audience is refused with Fulcio's message; and
// the real cosign v2 signs a pushed image keylessly (Fulcio + the stack's Rekor), which `cosign verify` accepts for
// that identity and issuer and refuses for another.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cosign, type ToolOutcome } from './lib/cosign.js';
import { fulcioEnv, rekorEnv, stackEnv } from './lib/env.js';
import { createNamespace } from './lib/kube.js';
import { claimsOf, createServiceAccount, serviceAccountIdentity, serviceAccountToken } from './lib/identity.js';
import { pushRandomImage } from './lib/registry.js';

const scratch: string[] = [];
after(() => Promise.all(scratch.map((d) => rm(d, { recursive: true, force: true }))));

/** A new temporary directory, removed when the file's tests end. */
async function scratchDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  scratch.push(dir);
  return dir;
}

/** An anonymous GET over TLS trusting only the kube-apiserver's CA, as Fulcio fetches discovery and keys. */
function anonymousGet(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

interface SigningCertResponse {
  signedCertificateEmbeddedSct?: { chain: { certificates: string[] } };
  signedCertificateDetachedSct?: { chain: { certificates: string[] }; signedCertificateTimestamp?: string };
}

/** POST /api/v2/signingCert: a fresh P-256 key, its proof of possession signing `sub` (the challenge claim). */
async function requestCertificate(token: string, challenge = claimsOf(token).sub as string) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const res = await fetch(`${fulcioEnv().url}/api/v2/signingCert`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      credentials: { oidcIdentityToken: token },
      publicKeyRequest: {
        publicKey: { algorithm: 'ECDSA', content: publicKey.export({ type: 'spki', format: 'pem' }) },
        proofOfPossession: sign('sha256', Buffer.from(challenge), privateKey).toString('base64'),
      },
    }),
  });
  return { status: res.status, body: await res.text(), publicKey };
}

const identity = serviceAccountIdentity;

let ns: string;
before(async () => {
  fulcioEnv(); // fails the file at once with the add-on's reason when Fulcio is down
  ns = await createNamespace('fulcio');
  await createServiceAccount(ns, 'builder');
});

test('the kube-apiserver is an OIDC issuer: anonymous discovery, JWKS, and TokenRequest tokens it signs as iss', async () => {
  const { issuer } = fulcioEnv();
  const ca = await readFile(join(stackEnv().stackDir, 'pki', 'ca.crt'), 'utf8');
  const discovery = await anonymousGet(`${issuer}/.well-known/openid-configuration`, ca);
  assert.equal(discovery.status, 200, discovery.body);
  const doc = JSON.parse(discovery.body) as { issuer: string; jwks_uri: string };
  assert.equal(doc.issuer, issuer);
  assert.equal(doc.jwks_uri, `${issuer}/openid/v1/jwks`);
  const jwks = await anonymousGet(doc.jwks_uri, ca);
  assert.equal(jwks.status, 200, jwks.body);
  assert.ok((JSON.parse(jwks.body) as { keys: unknown[] }).keys.length >= 1);

  const claims = claimsOf(await serviceAccountToken(ns, 'builder', 'sigstore'));
  assert.equal(claims.iss, issuer);
  assert.deepEqual(claims.aud, ['sigstore']);
  assert.equal(claims.sub, `system:serviceaccount:${ns}:builder`);
});

test('a ServiceAccount token for audience sigstore gets a certificate for the ServiceAccount, chained to FULCIO_ROOT', async () => {
  const fulcio = fulcioEnv();
  const token = await serviceAccountToken(ns, 'builder', 'sigstore');
  const res = await requestCertificate(token);
  assert.equal(res.status, 200, res.body);
  const parsed = JSON.parse(res.body) as SigningCertResponse;
  const chain = (parsed.signedCertificateDetachedSct ?? parsed.signedCertificateEmbeddedSct)!.chain.certificates;
  assert.ok(chain.length >= 2, res.body);
  const [leaf, ...issuers] = chain.map((pem) => new X509Certificate(pem));

  // The identity: one URI SAN naming the ServiceAccount; the issuer in Fulcio's extension; a code-signing cert.
  assert.equal(leaf!.subjectAltName, `URI:${identity(ns, 'builder')}`);
  assert.ok(leaf!.raw.includes(Buffer.from(fulcio.issuer)), 'the OIDC issuer is in the certificate');
  assert.ok(leaf!.keyUsage?.includes('1.3.6.1.5.5.7.3.3'), 'extended key usage codeSigning');
  assert.equal(leaf!.ca, false);
  assert.ok(leaf!.publicKey.equals(res.publicKey), 'certifies the key that proved possession');
  const lifetime = Date.parse(leaf!.validTo) - Date.parse(leaf!.validFrom);
  assert.ok(lifetime > 0 && lifetime <= 10 * 60_000, `short-lived (${leaf!.validFrom} .. ${leaf!.validTo})`);

  // The chain ends in FULCIO_ROOT (a file with a trailing newline), and each certificate is signed by the next.
  const rootPem = await readFile(fulcio.root, 'utf8');
  assert.match(rootPem, /-----END CERTIFICATE-----\n$/);
  const root = new X509Certificate(rootPem);
  assert.ok(issuers.at(-1)!.raw.equals(root.raw), 'the chain ends in FULCIO_ROOT');
  const all = [leaf!, ...issuers];
  for (let i = 0; i + 1 < all.length; i++) {
    assert.ok(all[i]!.checkIssued(all[i + 1]!) && all[i]!.verify(all[i + 1]!.publicKey), `certificate ${i} chains`);
  }
  assert.ok(root.verify(root.publicKey), 'a self-signed root');
  assert.equal(root.ca, true);

  // Proof of possession over anything but `sub` is refused.
  const forged = await requestCertificate(token, 'something else');
  assert.equal(forged.status, 400, forged.body);
  assert.match(forged.body, /The signature supplied in the request could not be verified/);
});

test("a token for another audience, or not from the issuer, is refused with Fulcio's message", async () => {
  // gRPC InvalidArgument as HTTP 400; the cause (e.g. "expected audience") is only in Fulcio's own log.
  const other = await requestCertificate(await serviceAccountToken(ns, 'builder', 'not-sigstore'));
  assert.equal(other.status, 400, other.body);
  assert.match(other.body, /There was an error processing the identity token/);
  const log = await readFile(join(stackEnv().stackDir, 'logs', 'fulcio.log'), 'utf8');
  assert.ok(log.includes('oidc: expected audience \\"sigstore\\" got [\\"not-sigstore\\"]'), 'the cause, in its log');

  // Signed by a key the issuer never published.
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const real = claimsOf(await serviceAccountToken(ns, 'builder', 'sigstore'));
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const unsigned = `${part({ alg: 'RS256', typ: 'JWT' })}.${part(real)}`;
  const jwt = `${unsigned}.${sign('sha256', Buffer.from(unsigned), privateKey).toString('base64url')}`;
  const forged = await requestCertificate(jwt);
  assert.equal(forged.status, 400, forged.body);
  assert.match(forged.body, /There was an error processing the identity token/);
});

test('cosign v2 signs a pushed image keylessly with a ServiceAccount token; verify pins the identity and issuer', async () => {
  const fulcio = fulcioEnv();
  const rekor = rekorEnv();
  const dir = await scratchDir('cosign-keyless-');
  const image = await pushRandomImage(`${stackEnv().registry}/e2e/keyless`);
  const tokenFile = join(dir, 'token');
  await writeFile(tokenFile, await serviceAccountToken(ns, 'builder', 'sigstore'), { mode: 0o600 });
  // Local roots only (no TUF): Fulcio's chain and Rekor's key; no CT log, hence the SCT switches.
  const env = { HOME: dir, SIGSTORE_ROOT_FILE: fulcio.root, SIGSTORE_REKOR_PUBLIC_KEY: rekor.publicKey };

  // prettier-ignore
  const signed = await cosign(['sign', '--identity-token', tokenFile, '--fulcio-url', fulcio.url,
    '--rekor-url', rekor.url, '--insecure-skip-verify', '--allow-http-registry', '-y', image.ref], env);
  assert.equal(signed.code, 0, signed.out);
  assert.match(signed.out, /tlog entry created with index: \d+/);
  assert.doesNotMatch(signed.out, /eyJ[\w-]+\.eyJ/, 'the token never reaches the output');

  const verify = (id: string, issuer = fulcio.issuer): Promise<ToolOutcome> =>
    // prettier-ignore
    cosign(['verify', '--certificate-identity', id, '--certificate-oidc-issuer', issuer, '--insecure-ignore-sct',
      '--rekor-url', rekor.url, '--allow-http-registry', image.ref], env);
  const ok = await verify(identity(ns, 'builder'));
  assert.equal(ok.code, 0, ok.out);
  assert.match(ok.out, /The code-signing certificate was verified using trusted certificate authority certificates/);
  assert.match(ok.out, /Existence of the claims in the transparency log was verified offline/);
  const payloads = JSON.parse(ok.out.slice(ok.out.indexOf('['), ok.out.lastIndexOf(']') + 1)) as {
    critical: { image: { 'docker-manifest-digest': string } };
    optional?: { Issuer?: string; Subject?: string };
  }[];
  assert.equal(payloads.length, 1, ok.out);
  assert.equal(payloads[0]!.critical.image['docker-manifest-digest'], image.digest);
  assert.equal(payloads[0]!.optional?.Subject, identity(ns, 'builder'));
  assert.equal(payloads[0]!.optional?.Issuer, fulcio.issuer);

  // Another ServiceAccount, or another issuer: no signature matches.
  const wrongIdentity = await verify(identity(ns, 'someone-else'));
  assert.notEqual(wrongIdentity.code, 0, wrongIdentity.out);
  assert.match(wrongIdentity.out, /none of the expected identities matched/);
  const wrongIssuer = await verify(identity(ns, 'builder'), 'https://kubernetes.default.svc.cluster.local');
  assert.notEqual(wrongIssuer.code, 0, wrongIssuer.out);
  assert.match(wrongIssuer.out, /none of the expected identities matched/);
  // And a root that is not Fulcio's: the certificate does not chain.
  const otherRoot = join(dir, 'other-root.pem');
  await writeFile(otherRoot, await readFile(join(stackEnv().stackDir, 'pki', 'ca.crt')));
  // prettier-ignore
  const untrusted = await cosign(['verify', '--certificate-identity', identity(ns, 'builder'),
    '--certificate-oidc-issuer', fulcio.issuer, '--insecure-ignore-sct', '--rekor-url', rekor.url,
    '--allow-http-registry', image.ref], { ...env, SIGSTORE_ROOT_FILE: otherRoot });
  assert.notEqual(untrusted.code, 0, untrusted.out);
  assert.match(untrusted.out, /x509: certificate signed by unknown authority/);
});
