// Inclusion proofs and checkpoints of `verify --rekor-public-key` (src/verify/merkle.ts, checkpoint.ts, tlog.ts):
// a referrer bundle's tlog entry passes only when the audit path leads from the leaf hash of its body to the proof's
// root hash, and a checkpoint signed by the Rekor key (Rekor's origin) names that tree size and root hash.
// The real entries come from rekor-server v1.5.4 (test/fixtures/tlog/README.md says how they were captured); the
// Merkle algorithm is also compared with RFC 6962's recursive definitions on every leaf of trees up to 40 leaves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dsseBundle, messageSignatureBundle } from '../../src/sigstore/bundle.js';
import { cosignRekorBundle } from '../../src/sigstore/cosign-layout.js';
import { parseLogEntry, type TlogEntry } from '../../src/sigstore/rekor.js';
import { checkBundle } from '../../src/verify/bundles.js';
import type { Check } from '../../src/verify/checks.js';
import { parseCheckpoint } from '../../src/verify/checkpoint.js';
import { inclusionMismatch, leafHash } from '../../src/verify/merkle.js';
import { checkInclusionProof, checkTlogRecord, recordFromCosignBundle, rekorLogKey } from '../../src/verify/tlog.js';
import { auditPath, mth, signCheckpoint, testLog } from './tlog-fixtures.js';

interface Fixture {
  rekorPublicKey: string;
  signerPublicKey: string;
  image: { repository: string; digest: string };
  signature: { payload: string; signature: string; rekorAnswer: unknown; rekorAnswerLater: unknown };
  attestation: { envelope: string; rekorAnswer: unknown };
}

const FIXTURE = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', 'fixtures', 'tlog', 'rekor-entries.json'), 'utf8'),
) as Fixture;
const REKOR = rekorLogKey(createPublicKey(FIXTURE.rekorPublicKey));
const SIGNER = createPublicKey(FIXTURE.signerPublicKey);
const PAYLOAD = Buffer.from(FIXTURE.signature.payload, 'base64');
const SIGNATURE = Buffer.from(FIXTURE.signature.signature, 'base64');
const ENVELOPE = Buffer.from(FIXTURE.attestation.envelope, 'base64');

function tlogEntry(answer: unknown): TlogEntry {
  const e = parseLogEntry(Buffer.from(JSON.stringify(answer)));
  if (typeof e === 'string') throw new Error(e);
  return e;
}

const sha256Hex = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** The checks of a message-signature referrer bundle holding `entry`, verified with the real Rekor key. */
function signatureChecks(entry: TlogEntry, rekor = REKOR): { authentic: boolean; checks: Check[] } {
  const blob = messageSignatureBundle(PAYLOAD, sha256Hex(PAYLOAD), SIGNATURE, '', entry);
  return checkBundle('referrer', blob, SIGNER, FIXTURE.image, {}, rekor).verdict;
}

function attestationChecks(entry: TlogEntry): { authentic: boolean; checks: Check[] } {
  return checkBundle('referrer', dsseBundle(ENVELOPE, '', entry), SIGNER, FIXTURE.image, {}, REKOR).verdict;
}

const named = (checks: Check[], name: string): Check => {
  const c = checks.find((x) => x.name === name);
  assert.ok(c, `no ${name} check in ${JSON.stringify(checks)}`);
  return c;
};

/** Flips the last bit of a hex string. */
const flipHex = (hex: string): string => hex.slice(0, -1) + (parseInt(hex.slice(-1), 16) ^ 1).toString(16);

const withProof = (e: TlogEntry, change: Partial<NonNullable<TlogEntry['inclusionProof']>>): TlogEntry => ({
  ...e,
  inclusionProof: { ...e.inclusionProof!, ...change },
});

test('real Rekor entries: SET, inclusion proof and checkpoint verify for both bundle kinds', () => {
  for (const [what, verdict] of [
    ['hashedrekord, last leaf', signatureChecks(tlogEntry(FIXTURE.signature.rekorAnswer))],
    ['hashedrekord, inner leaf', signatureChecks(tlogEntry(FIXTURE.signature.rekorAnswerLater))],
    ['dsse', attestationChecks(tlogEntry(FIXTURE.attestation.rekorAnswer))],
  ] as const) {
    assert.equal(verdict.authentic, true, `${what}: ${JSON.stringify(verdict.checks)}`);
    for (const name of ['tlog', 'inclusion-proof', 'checkpoint'])
      assert.equal(named(verdict.checks, name).status, 'passed', `${what}: ${name}`);
    assert.match(
      named(verdict.checks, 'checkpoint').detail,
      /signed by the Rekor key as 127\.0\.0\.1 \(origin 127\.0\.0\.1 - \d+\)/,
    );
  }
});

test('the captured proofs are of a real tree: one for the last leaf, one for an inner leaf with a longer path', () => {
  const first = tlogEntry(FIXTURE.signature.rekorAnswer).inclusionProof!;
  const later = tlogEntry(FIXTURE.signature.rekorAnswerLater).inclusionProof!;
  assert.equal(first.logIndex, first.treeSize - 1);
  assert.ok(later.treeSize > later.logIndex + 1);
  assert.ok(first.hashes.length > 1 && later.hashes.length > 1);
});

test('the cosign layer annotation of a real entry carries only the SET, and it verifies', () => {
  const e = tlogEntry(FIXTURE.signature.rekorAnswer);
  const c = checkTlogRecord(recordFromCosignBundle(cosignRekorBundle(e)), REKOR, {
    kind: 'signature',
    payload: PAYLOAD,
    signature: SIGNATURE,
  });
  assert.equal(c.status, 'passed', c.detail);
});

test('tampered proofs fail on the inclusion proof: a flipped audit-path hash, root hash, index or tree size', () => {
  const e = tlogEntry(FIXTURE.signature.rekorAnswerLater);
  const p = e.inclusionProof!;
  const cases: Array<[string, TlogEntry, RegExp]> = [
    ['audit-path hash', withProof(e, { hashes: [flipHex(p.hashes[0]!), ...p.hashes.slice(1)] }), /^root hash mismatch/],
    [
      'last audit-path hash',
      withProof(e, { hashes: [...p.hashes.slice(0, -1), flipHex(p.hashes.at(-1)!)] }),
      /^root hash mismatch/,
    ],
    ['root hash', withProof(e, { rootHash: flipHex(p.rootHash) }), /^root hash mismatch/],
    ['leaf index', withProof(e, { logIndex: p.logIndex - 1 }), /root hash mismatch|audit path has/],
    ['tree size', withProof(e, { treeSize: p.treeSize + 1 }), /root hash mismatch|audit path has/],
    ['one hash less', withProof(e, { hashes: p.hashes.slice(1) }), /audit path has \d+ hashes, fewer/],
    ['one hash more', withProof(e, { hashes: [...p.hashes, p.hashes[0]!] }), /audit path has \d+ hashes, more/],
    ['index outside the tree', withProof(e, { logIndex: p.treeSize }), /is not inside a tree of size/],
  ];
  for (const [what, entry, why] of cases) {
    const v = signatureChecks(entry);
    assert.equal(v.authentic, false, what);
    const c = named(v.checks, 'inclusion-proof');
    assert.equal(c.status, 'failed', what);
    assert.match(c.detail, why, what);
    // the SET does not cover the proof: it still verifies, and the failure is named where it is
    assert.equal(named(v.checks, 'tlog').status, 'passed', what);
  }
});

test('a tampered body fails the inclusion proof too (and the SET)', () => {
  const e = tlogEntry(FIXTURE.signature.rekorAnswerLater);
  const body = JSON.parse(Buffer.from(e.body, 'base64').toString()) as { spec: { data: { hash: { value: string } } } };
  body.spec.data.hash.value = flipHex(body.spec.data.hash.value);
  const v = signatureChecks({ ...e, body: Buffer.from(JSON.stringify(body)).toString('base64') });
  assert.equal(v.authentic, false);
  assert.match(named(v.checks, 'inclusion-proof').detail, /^root hash mismatch/);
  assert.equal(named(v.checks, 'tlog').status, 'failed');
});

test('tampered checkpoints fail on the checkpoint: signature, tree size, root hash, origin, other key', () => {
  const e = tlogEntry(FIXTURE.signature.rekorAnswerLater);
  const cp = e.inclusionProof!.checkpoint!;
  const [note, sigs] = cp.split('\n\n') as [string, string];
  const sigLine = /^(\u2014 \S+ )(\S+)\n$/.exec(sigs)!;
  const sigBytes = Buffer.from(sigLine[2]!, 'base64');
  sigBytes[sigBytes.length - 1]! ^= 1;
  const flippedSig = `${note}\n\n${sigLine[1]}${sigBytes.toString('base64')}\n`;
  const [origin, size, root] = note.split('\n') as [string, string, string];
  const otherSize = `${origin}\n${BigInt(size) + 1n}\n${root}\n\n${sigs}`;
  const otherRoot = `${origin}\n${size}\n${Buffer.from(flipHex(Buffer.from(root, 'base64').toString('hex')), 'hex').toString('base64')}\n\n${sigs}`;
  const otherOrigin = `${origin.replace(/\d+$/, '1')}\n${size}\n${root}\n\n${sigs}`;
  const otherHint = `${note}\n\n${sigLine[1]}${Buffer.concat([Buffer.alloc(4), sigBytes.subarray(4)]).toString('base64')}\n`;
  const cases: Array<[string, string, RegExp]> = [
    ['flipped signature', flippedSig, /^signature invalid: the note signature does not verify/],
    ['tree size in the note', otherSize, /^signature invalid/],
    ['root hash in the note', otherRoot, /^signature invalid/],
    ['origin', otherOrigin, /^signature invalid/],
    ['key hint', otherHint, /^signature invalid: no signature line has the Rekor key's hint/],
    ['no signatures', `${note}\n\n`, /^unreadable: /],
    ['not a note', 'garbage', /^unreadable: not a signed note/],
  ];
  for (const [what, checkpoint, why] of cases) {
    const v = signatureChecks(withProof(e, { checkpoint }));
    assert.equal(v.authentic, false, what);
    const c = named(v.checks, 'checkpoint');
    assert.equal(c.status, 'failed', what);
    assert.match(c.detail, why, what);
    assert.equal(named(v.checks, 'inclusion-proof').status, 'passed', what);
  }
  // verified with another Rekor key, the real checkpoint is not the log's
  const v = signatureChecks(e, testLog().trusted);
  assert.equal(v.authentic, false);
  assert.match(named(v.checks, 'checkpoint').detail, /^signature invalid: no signature line has the Rekor key/);
});

/** A synthetic log of `n` leaves, the audit path of leaf `index`, and a checkpoint its key signs. */
function syntheticEntry(n: number, index: number) {
  const log = testLog();
  const leaves = Array.from({ length: n }, (_, i) => Buffer.from(`leaf ${i}`));
  const root = mth(leaves);
  return { log, leaves, root, hashes: auditPath(index, leaves), checkpoint: signCheckpoint(log, n, root) };
}

test('a validly signed checkpoint of another tree size or root hash fails with that mismatch', () => {
  const s = syntheticEntry(7, 3);
  const entryWith = (checkpoint: string) => ({
    logIndex: '3',
    logId: { keyId: Buffer.from(s.log.trusted.logID, 'hex') },
    kindVersion: { kind: 'hashedrekord', version: '0.0.1' },
    integratedTime: '0',
    inclusionPromise: undefined,
    inclusionProof: {
      logIndex: '3',
      treeSize: '7',
      rootHash: s.root,
      hashes: s.hashes,
      checkpoint: { envelope: checkpoint },
    },
    canonicalizedBody: s.leaves[3]!,
  });
  const ok = checkInclusionProof([entryWith(s.checkpoint)], s.log.trusted);
  assert.deepEqual(
    ok.map((c) => c.status),
    ['passed', 'passed'],
    JSON.stringify(ok),
  );
  const bigger = checkInclusionProof([entryWith(signCheckpoint(s.log, 8, s.root))], s.log.trusted);
  assert.match(bigger[1]!.detail, /^tree size mismatch: the checkpoint says 8, the proof 7/);
  const otherRoot = checkInclusionProof(
    [entryWith(signCheckpoint(s.log, 7, leafHash(Buffer.from('x'))))],
    s.log.trusted,
  );
  assert.match(otherRoot[1]!.detail, /^root hash mismatch: the checkpoint says/);
  const origin = checkInclusionProof(
    [entryWith(signCheckpoint(s.log, 7, s.root, { name: 'rekor.test', origin: 'other.host - 1234' }))],
    s.log.trusted,
  );
  assert.match(origin[1]!.detail, /^origin mismatch/);
  const noTreeId = checkInclusionProof(
    [entryWith(signCheckpoint(s.log, 7, s.root, { name: 'rekor.test', origin: 'rekor.test' }))],
    s.log.trusted,
  );
  assert.match(noTreeId[1]!.detail, /^origin mismatch/);
  const noCheckpoint = { ...entryWith(''), inclusionProof: { ...entryWith('').inclusionProof, checkpoint: undefined } };
  assert.match(checkInclusionProof([noCheckpoint], s.log.trusted)[1]!.detail, /no checkpoint/);
  const noProof = { ...entryWith(''), inclusionProof: undefined };
  assert.deepEqual(
    checkInclusionProof([noProof], s.log.trusted).map((c) => [c.name, c.status]),
    [['inclusion-proof', 'skipped']],
  );
});

test('merkle: every leaf of every tree up to 40 leaves verifies against RFC 6962 MTH and PATH', () => {
  for (let n = 1; n <= 40; n++) {
    const leaves = Array.from({ length: n }, (_, i) => Buffer.from(`leaf ${i} of ${n}`));
    const rootHash = mth(leaves);
    for (let m = 0; m < n; m++) {
      const proof = { leafIndex: BigInt(m), treeSize: BigInt(n), rootHash, hashes: auditPath(m, leaves) };
      assert.equal(inclusionMismatch(leaves[m]!, proof), '', `leaf ${m} of ${n}`);
      // another leaf at this index, and this leaf claimed at another index, fail
      assert.match(inclusionMismatch(Buffer.from('other'), proof), /root hash mismatch/, `other leaf ${m}/${n}`);
      if (n > 1) {
        const moved = { ...proof, leafIndex: BigInt((m + 1) % n) };
        assert.notEqual(inclusionMismatch(leaves[m]!, moved), '', `moved leaf ${m}/${n}`);
      }
      for (let h = 0; h < proof.hashes.length; h++) {
        const hashes = proof.hashes.map((x, i) => (i === h ? Buffer.from(x.map((b, j) => (j === 0 ? b ^ 1 : b))) : x));
        assert.match(inclusionMismatch(leaves[m]!, { ...proof, hashes }), /root hash mismatch/, `hash ${h} ${m}/${n}`);
      }
    }
  }
});

test('merkle: malformed proofs are refused with the reason', () => {
  const root = leafHash(Buffer.from('a'));
  const one = { leafIndex: 0n, treeSize: 1n, rootHash: root, hashes: [] as Buffer[] };
  assert.equal(inclusionMismatch(Buffer.from('a'), one), '');
  assert.match(inclusionMismatch(Buffer.from('a'), { ...one, treeSize: 0n }), /not inside a tree of size 0/);
  assert.match(inclusionMismatch(Buffer.from('a'), { ...one, leafIndex: -1n }), /not inside/);
  assert.match(inclusionMismatch(Buffer.from('a'), { ...one, hashes: [root] }), /more than a tree of size 1 needs/);
  assert.match(inclusionMismatch(Buffer.from('a'), { ...one, rootHash: root.subarray(1) }), /not 32 bytes/);
});

test('checkpoint parsing: Rekor’s form, and what is not a checkpoint', () => {
  const real = parseCheckpoint(tlogEntry(FIXTURE.signature.rekorAnswer).inclusionProof!.checkpoint!);
  assert.ok(typeof real !== 'string', String(real));
  assert.match(real.checkpoint.origin, /^127\.0\.0\.1 - \d+$/);
  assert.equal(real.signatures.length, 1);
  assert.equal(real.signatures[0]!.keyHint.toString('hex'), REKOR.logID.slice(0, 8));
  const root = Buffer.alloc(32).toString('base64');
  for (const [bad, why] of [
    [`o\n1\n${root}\n`, /no blank line/],
    [`o\n1\n\n— o AAAAAAA=\n`, /fewer than 3 lines/],
    [`\n1\n${root}\n\n— o AAAAAAA=\n`, /origin line is empty/],
    [`o\n01\n${root}\n\n— o AAAAAAA=\n`, /tree size line/],
    [`o\n-1\n${root}\n\n— o AAAAAAA=\n`, /tree size line/],
    [`o\n1\nAAAA\n\n— o AAAAAAA=\n`, /root hash line/],
    [`o\n1\n${root}\n\n— o AAAAAAA=`, /do not end with a newline/],
    [`o\n1\n${root}\n\n- o AAAAAAA=\n`, /malformed signature line/],
    [`o\n1\n${root}\n\n— o AAAA\n`, /too short/],
  ] as const) {
    const r = parseCheckpoint(bad);
    assert.equal(typeof r, 'string', bad);
    assert.match(r as string, why, bad);
  }
});
