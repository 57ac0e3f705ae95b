// Proves the sigstore2 stack add-on (e2e/stack/addons/sigstore2-up.sh) with the real clients: cosign v3 signs a
// pushed image keylessly (a ServiceAccount token, the stack's Fulcio) through SIGSTORE_SIGNING_CONFIG, which puts the
// signature into Rekor v2 with an RFC 3161 timestamp from the TSA; `cosign verify --trusted-root` accepts it with
// SIGSTORE_TRUSTED_ROOT and refuses it when that root lacks the TSA or the Rekor v2 key. openssl verifies a TSA
// timestamp against TSA_CHAIN, and Rekor v2's checkpoint on its read path is signed by REKOR_V2_PUBLIC_KEY.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, generateKeyPairSync, sign, verify, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTool, type ToolOutcome } from './lib/cosign.js';
import { fulcioEnv, sigstore2Env, stackEnv, verifiersEnv } from './lib/env.js';
import { createServiceAccount, serviceAccountIdentity, serviceAccountToken } from './lib/identity.js';
import { createNamespace } from './lib/kube.js';
import { fetchBlob, fetchManifest, pushRandomImage, type PushedImage } from './lib/registry.js';
import { waitFor } from './lib/wait.js';

const scratch: string[] = [];
after(() => Promise.all(scratch.map((d) => rm(d, { recursive: true, force: true }))));

/** A new temporary directory, removed when the file's tests end. */
async function scratchDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  scratch.push(dir);
  return dir;
}

interface TrustedRoot {
  mediaType: string;
  tlogs: { baseUrl: string; logId: { keyId: string }; publicKey: { rawBytes: string; keyDetails: string } }[];
  certificateAuthorities: { uri: string }[];
  timestampAuthorities: { uri: string; certChain: { certificates: { rawBytes: string }[] } }[];
  ctlogs?: unknown[];
}

interface SigningConfig {
  mediaType: string;
  caUrls: { url: string; majorApiVersion: number }[];
  rekorTlogUrls: { url: string; majorApiVersion: number }[];
  tsaUrls: { url: string; majorApiVersion: number }[];
  rekorTlogConfig: { selector: string };
  tsaConfig: { selector: string };
}

interface Bundle {
  mediaType: string;
  verificationMaterial: {
    tlogEntries: {
      logId: { keyId: string };
      kindVersion: { kind: string; version: string };
      integratedTime?: string;
      inclusionProof: { checkpoint: { envelope: string } };
    }[];
    timestampVerificationData?: { rfc3161Timestamps?: { signedTimestamp: string }[] };
  };
}

const readJson = async <T>(file: string): Promise<T> => JSON.parse(await readFile(file, 'utf8')) as T;

/** The Rekor v2 log as the trusted root lists it. */
async function rekorV2Log(): Promise<TrustedRoot['tlogs'][number]> {
  const root = await readJson<TrustedRoot>(sigstore2Env().trustedRoot);
  const log = root.tlogs.find((t) => t.baseUrl === sigstore2Env().rekorV2Url);
  assert.ok(log, `the trusted root lists Rekor v2 (${sigstore2Env().rekorV2Url})`);
  return log;
}

/** The signed-note key ID of an ed25519 key under `origin`: sha256(origin ‖ "\n" ‖ 0x01 ‖ raw key), C2SP signed-note. */
function ed25519NoteKeyId(origin: string, publicKeyPem: string): Buffer {
  const raw = createPublicKey(publicKeyPem).export({ format: 'der', type: 'spki' }).subarray(-32);
  return createHash('sha256')
    .update(Buffer.concat([Buffer.from(`${origin}\n`), Buffer.from([0x01]), raw]))
    .digest();
}

/** The cosign v3 signature bundle of `image`, from the registry's referrers tag (`sha256-<hex>`, an OCI index). */
async function bundleOf(image: PushedImage): Promise<Bundle> {
  const index = await fetchManifest(image.repository, image.digest.replace(':', '-'));
  assert.ok(index, `the referrers index of ${image.ref}`);
  const manifests = index.json.manifests as { digest: string; artifactType?: string }[];
  assert.equal(manifests.length, 1, JSON.stringify(index.json));
  assert.match(manifests[0]!.artifactType ?? '', /^application\/vnd\.dev\.sigstore\.bundle\.v0\.3\+json$/);
  const manifest = await fetchManifest(image.repository, manifests[0]!.digest);
  const [layer] = manifest!.json.layers as { digest: string }[];
  return JSON.parse((await fetchBlob(image.repository, layer!.digest)).toString('utf8')) as Bundle;
}

let ns: string;
let image: PushedImage;
let signed: ToolOutcome;
let home: string;
before(async () => {
  sigstore2Env(); // fails the file at once with the add-on's reason when it is down
  ns = await createNamespace('sigstore2');
  await createServiceAccount(ns, 'builder');
  home = await scratchDir('sigstore2-cosign-');
  image = await pushRandomImage(`${stackEnv().registry}/e2e/sigstore2`);
  const tokenFile = join(home, 'token');
  await writeFile(tokenFile, await serviceAccountToken(ns, 'builder', 'sigstore'), { mode: 0o600 });
  const s2 = sigstore2Env();
  // prettier-ignore
  signed = await runTool(verifiersEnv().cosign3, ['sign', '--identity-token', tokenFile,
    '--signing-config', s2.signingConfig, '--trusted-root', s2.trustedRoot, '--allow-http-registry', '-y', image.ref],
  { HOME: home });
});

/** cosign v3 verify of the keyless signature of `image` for builder@ns against `trustedRoot`. */
function verifyKeyless(trustedRoot: string): Promise<ToolOutcome> {
  // prettier-ignore
  return runTool(verifiersEnv().cosign3, ['verify', '--certificate-identity', serviceAccountIdentity(ns, 'builder'),
    '--certificate-oidc-issuer', fulcioEnv().issuer, '--insecure-ignore-sct', '--trusted-root', trustedRoot,
    '--allow-http-registry', image.ref], { HOME: home });
}

/** SIGSTORE_TRUSTED_ROOT with `change` applied, written to a scratch file. */
async function alteredTrustedRoot(name: string, change: (root: TrustedRoot) => TrustedRoot): Promise<string> {
  const file = join(await scratchDir('sigstore2-root-'), name);
  await writeFile(file, JSON.stringify(change(await readJson<TrustedRoot>(sigstore2Env().trustedRoot))));
  return file;
}

test('the signing config sends cosign v3 to Fulcio, Rekor v2 (before Rekor v1) and the TSA; the trusted root lists them all', async () => {
  const s2 = sigstore2Env();
  const config = await readJson<SigningConfig>(s2.signingConfig);
  assert.equal(config.mediaType, 'application/vnd.dev.sigstore.signingconfig.v0.2+json');
  assert.deepEqual(
    config.caUrls.map((u) => [u.url, u.majorApiVersion]),
    [[fulcioEnv().url, 1]],
  );
  const { vars } = stackEnv();
  assert.deepEqual(
    config.rekorTlogUrls.map((u) => [u.url, u.majorApiVersion]),
    [
      [s2.rekorV2Url, 2],
      [vars.REKOR_URL, 1],
    ],
  );
  assert.deepEqual(
    config.tsaUrls.map((u) => [u.url, u.majorApiVersion]),
    [[s2.tsaUrl, 1]],
  );
  assert.equal(config.rekorTlogConfig.selector, 'ANY');
  assert.equal(config.tsaConfig.selector, 'ANY');

  const root = await readJson<TrustedRoot>(s2.trustedRoot);
  assert.equal(root.mediaType, 'application/vnd.dev.sigstore.trustedroot+json;version=0.1');
  assert.deepEqual(root.tlogs.map((t) => t.baseUrl).sort(), [vars.REKOR_URL, s2.rekorV2Url].sort());
  assert.deepEqual(
    root.certificateAuthorities.map((c) => c.uri),
    [fulcioEnv().url],
  );
  assert.deepEqual(
    root.timestampAuthorities.map((t) => t.uri),
    [s2.tsaUrl],
  );
  assert.deepEqual(root.ctlogs ?? [], []);
  // Rekor v2's log ID is the signed-note key ID over its origin and ed25519 key (Rekor v1's: sha256 of the DER key).
  const v2 = await rekorV2Log();
  assert.equal(v2.publicKey.keyDetails, 'PKIX_ED25519');
  const pem = await readFile(s2.rekorV2PublicKey, 'utf8');
  assert.equal(v2.logId.keyId, ed25519NoteKeyId(s2.rekorV2Origin, pem).toString('base64'));
  assert.equal(s2.rekorV2Origin, new URL(s2.rekorV2Url).hostname, 'the origin verifiers derive from the baseUrl');
  // The TSA's chain in the trusted root is TSA_CHAIN.
  const chain = (await readFile(s2.tsaChain, 'utf8')).match(
    /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g,
  );
  assert.deepEqual(
    root.timestampAuthorities[0]!.certChain.certificates.map((c) => c.rawBytes),
    chain!.map((p) => new X509Certificate(p).raw.toString('base64')),
  );
});

test('cosign v3 signs keylessly into Rekor v2 with a TSA timestamp, and verifies against SIGSTORE_TRUSTED_ROOT', async () => {
  assert.equal(signed.code, 0, signed.out);
  assert.doesNotMatch(signed.out, /eyJ[\w-]+\.eyJ/, 'the token never reaches the output');

  const bundle = await bundleOf(image);
  assert.equal(bundle.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
  const [entry, ...others] = bundle.verificationMaterial.tlogEntries;
  assert.equal(others.length, 0, 'one transparency log entry');
  assert.deepEqual(entry!.kindVersion, { kind: 'hashedrekord', version: '0.0.2' }, 'a Rekor v2 entry');
  assert.equal(entry!.logId.keyId, (await rekorV2Log()).logId.keyId, "Rekor v2's log ID");
  assert.ok(!entry!.integratedTime || entry!.integratedTime === '0', 'Rekor v2 gives no integrated time');
  assert.match(entry!.inclusionProof.checkpoint.envelope, new RegExp(`^${sigstore2Env().rekorV2Origin}\\n\\d+\\n`));
  const stamps = bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps ?? [];
  assert.equal(stamps.length, 1, 'one RFC 3161 timestamp from the TSA');

  const ok = await verifyKeyless(sigstore2Env().trustedRoot);
  assert.equal(ok.code, 0, ok.out);
  assert.match(ok.out, /The code-signing certificate was verified using trusted certificate authority certificates/);
  assert.match(ok.out, /Existence of the claims in the transparency log was verified offline/);
  assert.ok(ok.out.includes(`"docker-manifest-digest":"${image.digest}"`), ok.out);
});

test('a trusted root without the TSA, or without the Rekor v2 key, refuses that signature', async () => {
  const noTsa = await alteredTrustedRoot('no-tsa.json', (r) => ({ ...r, timestampAuthorities: [] }));
  const withoutTsa = await verifyKeyless(noTsa);
  assert.notEqual(withoutTsa.code, 0, withoutTsa.out);
  // Rekor v2 has no integrated time: only the TSA proves the short-lived certificate was valid at signing.
  assert.match(withoutTsa.out, /threshold not met for verified signed timestamps: 0 < 1/);

  const v2 = sigstore2Env().rekorV2Url;
  const noV2 = await alteredTrustedRoot('no-rekor-v2.json', (r) => ({
    ...r,
    tlogs: r.tlogs.filter((t) => t.baseUrl !== v2),
  }));
  const withoutV2 = await verifyKeyless(noV2);
  assert.notEqual(withoutV2.code, 0, withoutV2.out);
  assert.match(withoutV2.out, /not enough verified log entries from transparency log: 0 < 1/);
});

test('a timestamp from the TSA verifies with openssl against TSA_CHAIN, and not against another root', async () => {
  const s2 = sigstore2Env();
  const dir = await scratchDir('sigstore2-tsa-');
  const data = join(dir, 'data.txt');
  await writeFile(data, `chainsmith ${Date.now()}\n`);
  const query = await runTool('openssl', [
    'ts',
    '-query',
    '-data',
    data,
    '-sha256',
    '-cert',
    '-out',
    join(dir, 'q.tsq'),
  ]);
  assert.equal(query.code, 0, query.out);
  const res = await fetch(s2.tsaUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/timestamp-query' },
    body: await readFile(join(dir, 'q.tsq')),
  });
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal(res.headers.get('content-type'), 'application/timestamp-reply');
  await writeFile(join(dir, 'r.tsr'), Buffer.from(await res.arrayBuffer()));

  // TSA_CHAIN: the timestamping leaf first, the root last; as served at /certchain.
  const pems = (await readFile(s2.tsaChain, 'utf8')).match(
    /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g,
  )!;
  assert.equal(pems.length, 2);
  assert.equal(await (await fetch(`${s2.tsaUrl}/certchain`)).text(), await readFile(s2.tsaChain, 'utf8'));
  const [leaf, root] = pems.map((p) => new X509Certificate(p));
  assert.ok(leaf!.checkIssued(root!) && leaf!.verify(root!.publicKey), 'the leaf is issued by the root');
  await writeFile(join(dir, 'root.pem'), `${pems[1]}\n`);
  await writeFile(join(dir, 'leaf.pem'), `${pems[0]}\n`);
  // prettier-ignore
  const verified = await runTool('openssl', ['ts', '-verify', '-data', data, '-in', join(dir, 'r.tsr'),
    '-CAfile', join(dir, 'root.pem'), '-untrusted', join(dir, 'leaf.pem')]);
  assert.equal(verified.code, 0, verified.out);
  assert.match(verified.out, /Verification: OK/);

  // prettier-ignore
  const otherRoot = await runTool('openssl', ['ts', '-verify', '-data', data, '-in', join(dir, 'r.tsr'),
    '-CAfile', fulcioEnv().root, '-untrusted', join(dir, 'leaf.pem')]);
  assert.notEqual(otherRoot.code, 0, otherRoot.out);
  assert.match(otherRoot.out, /Verification: FAILED/);
  const otherData = join(dir, 'other.txt');
  await writeFile(otherData, 'something else\n');
  // prettier-ignore
  const otherDocument = await runTool('openssl', ['ts', '-verify', '-data', otherData, '-in', join(dir, 'r.tsr'),
    '-CAfile', join(dir, 'root.pem'), '-untrusted', join(dir, 'leaf.pem')]);
  assert.notEqual(otherDocument.code, 0, otherDocument.out);
});

test('Rekor v2 takes a hashedrekord entry, and its published checkpoint is signed by REKOR_V2_PUBLIC_KEY', async () => {
  const s2 = sigstore2Env();
  // A real entry: an ECDSA P-256 signature over an artifact, sent as a hashedRekordRequestV002.
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const artifact = Buffer.from(`chainsmith ${Date.now()} ${Math.random()}`);
  const res = await fetch(`${s2.rekorV2Url}/api/v2/log/entries`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      hashedRekordRequestV002: {
        digest: createHash('sha256').update(artifact).digest('base64'),
        signature: {
          content: sign('sha256', artifact, privateKey).toString('base64'),
          verifier: {
            publicKey: { rawBytes: publicKey.export({ format: 'der', type: 'spki' }).toString('base64') },
            keyDetails: 'PKIX_ECDSA_P256_SHA_256',
          },
        },
      },
    }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  assert.equal(res.status, 201, text);
  const entry = JSON.parse(text) as { logIndex: string; logId: { keyId: string } };
  assert.equal(entry.logId.keyId, (await rekorV2Log()).logId.keyId);

  // The read path (static files) publishes a checkpoint covering the entry: a signed note from the origin.
  const keyPem = await readFile(s2.rekorV2PublicKey, 'utf8');
  const keyId = ed25519NoteKeyId(s2.rekorV2Origin, keyPem);
  const checkpoint = await waitFor(
    async () => {
      const body = await (await fetch(`${s2.rekorV2ReadUrl}/checkpoint`)).text();
      const size = Number(body.split('\n')[1]);
      return size > Number(entry.logIndex) ? body : undefined;
    },
    { timeoutMs: 20_000, description: `a checkpoint covering entry ${entry.logIndex}` },
  );
  const [note, signatures] = [
    checkpoint.slice(0, checkpoint.indexOf('\n\n') + 1),
    checkpoint.slice(checkpoint.indexOf('\n\n') + 2),
  ];
  assert.equal(note.split('\n')[0], s2.rekorV2Origin);
  const line = /^\u2014 (\S+) (\S+)$/m.exec(signatures);
  assert.ok(line, checkpoint);
  assert.equal(line[1], s2.rekorV2Origin);
  const sig = Buffer.from(line[2]!, 'base64');
  assert.ok(sig.subarray(0, 4).equals(keyId.subarray(0, 4)), 'the key hint is the first 4 bytes of the log ID');
  assert.ok(verify(null, Buffer.from(note), createPublicKey(keyPem), sig.subarray(4)), 'ed25519 signature by the key');
  const forged = Buffer.from(note.replace(/\n(\d+)\n/, (_, n: string) => `\n${Number(n) + 1}\n`));
  assert.ok(!verify(null, forged, createPublicKey(keyPem), sig.subarray(4)), 'and over this note only');
});
