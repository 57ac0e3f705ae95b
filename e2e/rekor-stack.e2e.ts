// Proves the stack's Rekor v1 (e2e/stack/addons/rekor-up.sh: MariaDB → Trillian → rekor-server) is a working
// transparency log, with the real rekor-cli: the signed tree head verifies, a hashedrekord entry for a signed blob is
// logged, read back by index and verified through its inclusion proof, checkpoint and SET, a duplicate upload is a 409
// pointing at the first entry, and REKOR_PUBLIC_KEY is the key the log signs with; cosign v2 uploads to it and verifies
// its bundle with that key.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cosign, runTool, type ToolOutcome } from './lib/cosign.js';
import { rekorEnv } from './lib/env.js';

const scratch: string[] = [];
after(() => Promise.all(scratch.map((d) => rm(d, { recursive: true, force: true }))));

/** A new temporary directory, removed when the file's tests end. */
async function scratchDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  scratch.push(dir);
  return dir;
}

/** rekor-cli against the stack's Rekor, with a scratch HOME so ~/.rekor (tree state) and ~/.rekor.yaml stay out. */
async function rekorCli(args: string[]): Promise<ToolOutcome> {
  const rekor = rekorEnv();
  const home = await scratchDir('rekor-cli-home-');
  return runTool(rekor.cli, [...args, '--rekor_server', rekor.url], { HOME: home });
}

/** The JSON object a successful `--format json` command printed (runTool's output also holds its stderr notes). */
function json<T>(r: ToolOutcome): T {
  assert.equal(r.code, 0, r.out);
  return JSON.parse(r.out.slice(r.out.indexOf('{'), r.out.lastIndexOf('}') + 1)) as T;
}

/** A blob signed with a fresh ECDSA P-256 key, as files rekor-cli takes (DER signature, PKIX public key PEM). */
async function signedBlob() {
  const dir = await scratchDir('rekor-blob-');
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const blob = randomBytes(256);
  const files = { artifact: join(dir, 'blob'), signature: join(dir, 'blob.sig'), publicKey: join(dir, 'key.pub') };
  await writeFile(files.artifact, blob);
  await writeFile(files.signature, sign('sha256', blob, privateKey));
  await writeFile(files.publicKey, publicKey.export({ type: 'spki', format: 'pem' }));
  return { dir, blob, files };
}

/** rekor-cli's --artifact/--signature/--public-key flags for a hashedrekord entry. */
function entryFlags(files: { artifact: string; signature: string; publicKey: string }): string[] {
  // prettier-ignore
  return ['--type', 'hashedrekord', '--artifact', files.artifact, '--signature', files.signature,
    '--public-key', files.publicKey];
}

interface LogEntry {
  body: string;
  integratedTime: number;
  logID: string;
  logIndex: number;
  verification: {
    signedEntryTimestamp: string;
    inclusionProof: { logIndex: number; treeSize: number; rootHash: string; hashes: string[]; checkpoint: string };
  };
}

test("the stack's Rekor verifies with rekor-cli loginfo, and REKOR_PUBLIC_KEY is the key it serves", async () => {
  const rekor = rekorEnv();
  const info = json<{ TreeID: string; ActiveTreeSize: number; RootHash: string }>(
    await rekorCli(['loginfo', '--format', 'json']),
  );
  assert.match(info.TreeID, /^\d+$/);
  assert.ok(info.ActiveTreeSize >= 0);

  const served = await fetch(`${rekor.url}/api/v1/log/publicKey`);
  assert.equal(served.status, 200);
  const pem = await readFile(rekor.publicKey, 'utf8');
  assert.match(pem, /^-----BEGIN PUBLIC KEY-----\n/);
  assert.equal(await served.text(), pem);
  assert.equal(createPublicKey(pem).asymmetricKeyType, 'ec');
});

test('a hashedrekord entry is logged, read back by index, verified by inclusion proof, and a duplicate is a 409', async () => {
  const rekor = rekorEnv();
  const { blob, files } = await signedBlob();

  const up = await rekorCli(['upload', ...entryFlags(files), '--format', 'json']);
  const uploaded = json<{ AlreadyExists: boolean; Location: string; Index: number }>(up);
  assert.equal(uploaded.AlreadyExists, false);
  assert.match(uploaded.Location, /^\/api\/v1\/log\/entries\/[0-9a-f]{80}$/);
  const index = uploaded.Index;
  const uuid = uploaded.Location.split('/').pop()!;

  // Read back by log index: the body is the entry for this blob's digest, signature and key.
  const got = json<{ LogIndex: number; UUID: string; Body: unknown }>(
    await rekorCli(['get', '--log-index', String(index), '--format', 'json']),
  );
  assert.equal(got.LogIndex, index);
  assert.equal(got.UUID, uuid);
  const body = JSON.stringify(got.Body);
  assert.ok(body.includes(createHash('sha256').update(blob).digest('hex')), body);
  assert.ok(body.includes((await readFile(files.signature)).toString('base64')), body);
  assert.ok(body.includes((await readFile(files.publicKey)).toString('base64')), body);

  // rekor-cli verify checks the inclusion proof, the signed checkpoint and the SET, by entry and by index.
  const byEntry = json<{ Index: number; RootHash: string; Hashes: string[] | null }>(
    await rekorCli(['verify', ...entryFlags(files), '--format', 'json']),
  );
  assert.equal(byEntry.Index, index);
  assert.match(byEntry.RootHash, /^[0-9a-f]{64}$/);
  assert.equal((await rekorCli(['verify', '--log-index', String(index)])).code, 0);
  // ... and finds nothing for another blob signed with the same key.
  const other = join((await signedBlob()).dir, 'blob');
  const wrong = await rekorCli(['verify', ...entryFlags({ ...files, artifact: other })]);
  assert.notEqual(wrong.code, 0, wrong.out);

  // The SET is signed with the key in REKOR_PUBLIC_KEY, and the log ID is that key's SHA-256 (what cosign checks).
  const res = await fetch(`${rekor.url}/api/v1/log/entries?logIndex=${index}`);
  assert.equal(res.status, 200);
  const entry = ((await res.json()) as Record<string, LogEntry>)[uuid]!;
  const key = createPublicKey(await readFile(rekor.publicKey, 'utf8'));
  const der = key.export({ type: 'spki', format: 'der' });
  assert.equal(entry.logID, createHash('sha256').update(der).digest('hex'));
  // RFC 8785 canonical JSON of these four members is their keys in order, no spaces.
  const { body: b, integratedTime, logID, logIndex } = entry;
  const setPayload = JSON.stringify({ body: b, integratedTime, logID, logIndex });
  const set = Buffer.from(entry.verification.signedEntryTimestamp, 'base64');
  assert.ok(verify('sha256', Buffer.from(setPayload), key, set), 'SET verifies with REKOR_PUBLIC_KEY');
  assert.match(entry.verification.inclusionProof.checkpoint, /^127\.0\.0\.1 - \d+\n/, 'checkpoint origin');

  // The same entry again: rekor-cli reports it exists, and the API answers 409 with the first entry's location.
  const again = await rekorCli(['upload', ...entryFlags(files)]);
  assert.equal(again.code, 0, again.out);
  assert.match(again.out, /Entry already exists; available at: .*\/api\/v1\/log\/entries\/[0-9a-f]+/);
  const proposed = JSON.parse(Buffer.from(entry.body, 'base64').toString('utf8')) as object;
  const dup = await fetch(`${rekor.url}/api/v1/log/entries`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(proposed),
  });
  assert.equal(dup.status, 409, await dup.text());
  assert.equal(dup.headers.get('location'), `/api/v1/log/entries/${uuid}`);
});

test("cosign v2 uploads a blob signature to the stack's Rekor and verifies its bundle with REKOR_PUBLIC_KEY only", async () => {
  const rekor = rekorEnv();
  const { dir, files } = await signedBlob();
  const env = { HOME: dir, COSIGN_PASSWORD: '' };
  const gen = await cosign(['generate-key-pair', '--output-key-prefix', join(dir, 'cosign')], env);
  assert.equal(gen.code, 0, gen.out);
  const bundle = join(dir, 'cosign.bundle');
  // prettier-ignore
  const signed = await cosign(['sign-blob', '--key', join(dir, 'cosign.key'), '--tlog-upload=true',
    '--rekor-url', rekor.url, '--bundle', bundle, '-y', files.artifact], env);
  assert.equal(signed.code, 0, signed.out);
  assert.match(signed.out, /tlog entry created with index: \d+/);

  const verifyWith = (rekorKey: string) =>
    // prettier-ignore
    cosign(['verify-blob', '--key', join(dir, 'cosign.pub'), '--bundle', bundle, '--rekor-url', rekor.url,
      files.artifact], { ...env, SIGSTORE_REKOR_PUBLIC_KEY: rekorKey });
  const ok = await verifyWith(rekor.publicKey);
  assert.equal(ok.code, 0, ok.out);
  assert.match(ok.out, /Verified OK/);
  // Another log key: the bundle's SET no longer verifies.
  const otherKey = join(dir, 'other-rekor.pub');
  await writeFile(
    otherKey,
    generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }),
  );
  const bad = await verifyWith(otherKey);
  assert.notEqual(bad.code, 0, bad.out);
  assert.match(bad.out, /rekor log public key not found/);
});
