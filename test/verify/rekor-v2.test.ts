// `verify --trusted-root` on real Rekor v2 bundles: test/fixtures/rekor-v2/bundles.json holds the sigstore bundles
// the controller stored for one image signed with a key and one signed keylessly on the test stack (Rekor v2,
// its timestamp authority, Fulcio), with the stack's trusted_root.json. Intact, every bundle passes — the keyless
// ones although their ten-minute certificates expired long ago, because the timestamp dates them; each altered
// part, and each piece of trust taken out of the root, fails the check that names it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkBundle, type BundleVerdict } from '../../src/verify/bundles.js';
import { stringMatcher, type KeylessPolicy } from '../../src/verify/certificate.js';
import { noteKeyHint, parseCheckpoint } from '../../src/verify/checkpoint.js';
import { parseTrustedRoot, type TrustedRootMaterial } from '../../src/verify/trusted-root.js';
import type { SignerTrust } from '../../src/verify/keyless.js';

interface Side {
  image: { repository: string; digest: string };
  bundles: string[];
}
const fixture = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', 'fixtures', 'rekor-v2', 'bundles.json'), 'utf8'),
) as {
  trustedRoot: { tlogs: Array<{ publicKey: { keyDetails: string } }>; timestampAuthorities: unknown[] };
  key: Side & { publicKey: string };
  keyless: Side & { identity: string; issuer: string };
  keyRekorV1: Side & { publicKey: string };
};

type BundleJson = {
  verificationMaterial: {
    tlogEntries: Array<{ inclusionProof: { hashes: string[]; checkpoint: { envelope: string } } }>;
    timestampVerificationData?: { rfc3161Timestamps: Array<{ signedTimestamp: string }> };
  };
};

const rootOf = (doc: unknown): TrustedRootMaterial => parseTrustedRoot(JSON.stringify(doc), 'trusted_root.json');
const ROOT = rootOf(fixture.trustedRoot);
const KEY: KeyObject = createPublicKey(fixture.key.publicKey);

function keylessPolicy(root: TrustedRootMaterial): KeylessPolicy {
  return {
    kind: 'keyless',
    ...root.fulcio!,
    identity: stringMatcher(fixture.keyless.identity, false),
    issuer: stringMatcher(fixture.keyless.issuer, false),
  };
}

function check(side: Side, bundle: string | Buffer, trust: SignerTrust, root = ROOT): BundleVerdict {
  const blob = Buffer.isBuffer(bundle) ? bundle : Buffer.from(bundle);
  return checkBundle('fixture', blob, trust, side.image, {}, undefined, { trustedRoot: root });
}

/** Every bundle of a side, altered by `alter`. */
function altered(side: Side, alter: (b: BundleJson) => void): Buffer[] {
  return side.bundles.map((text) => {
    const b = JSON.parse(text) as BundleJson;
    alter(b);
    return Buffer.from(JSON.stringify(b));
  });
}

function statusOf(v: BundleVerdict, name: string): string | undefined {
  return v.verdict.checks.find((c) => c.name === name)?.status;
}

function assertFails(v: BundleVerdict, name: string, detail: RegExp): void {
  assert.equal(v.verdict.authentic, false, JSON.stringify(v.verdict.checks));
  const c = v.verdict.checks.find((x) => x.name === name && x.status === 'failed');
  assert.ok(c, `no failed ${name} check in ${JSON.stringify(v.verdict.checks)}`);
  assert.match(c.detail, detail);
}

const flip = (b64: string, at: number): string => {
  const bytes = Buffer.from(b64, 'base64');
  const i = at < 0 ? bytes.length + at : at;
  bytes[i] = bytes[i]! ^ 0xff;
  return bytes.toString('base64');
};

const SIDES: Array<[string, Side, () => SignerTrust]> = [
  ['key', fixture.key, () => KEY],
  ['keyless', fixture.keyless, () => keylessPolicy(ROOT)],
];

describe('real Rekor v2 bundles under the stack’s trusted root', () => {
  test('the fixture is what the stack writes: v0.0.2 entries, a timestamp, an Ed25519 log', () => {
    for (const side of [fixture.key, fixture.keyless]) {
      assert.equal(side.bundles.length, 2, 'the image signature and the provenance');
      for (const text of side.bundles) {
        const b = JSON.parse(text) as BundleJson & {
          verificationMaterial: { tlogEntries: Array<{ kindVersion: { version: string }; integratedTime: string }> };
        };
        assert.equal(b.verificationMaterial.tlogEntries[0]!.kindVersion.version, '0.0.2');
        assert.equal(b.verificationMaterial.tlogEntries[0]!.integratedTime, '0');
        assert.equal(b.verificationMaterial.timestampVerificationData?.rfc3161Timestamps.length, 1);
      }
    }
    assert.ok(fixture.trustedRoot.tlogs.some((t) => t.publicKey.keyDetails === 'PKIX_ED25519'));
  });

  test('the checkpoint key hint is the signed-note key ID of the log’s name and Ed25519 key', () => {
    const b = JSON.parse(fixture.key.bundles[0]!) as BundleJson;
    const cp = parseCheckpoint(b.verificationMaterial.tlogEntries[0]!.inclusionProof.checkpoint.envelope);
    assert.ok(typeof cp !== 'string', String(cp));
    const log = ROOT.tlogs.find((t) => t.key.asymmetricKeyType === 'ed25519')!;
    const sig = cp.signatures[0]!;
    assert.deepEqual(noteKeyHint(sig.name, log.key), sig.keyHint);
    assert.equal(sig.name, cp.checkpoint.origin);
  });

  for (const [name, side, trust] of SIDES) {
    test(`${name}: every bundle passes tlog, inclusion-proof, checkpoint and timestamp`, () => {
      const kinds = new Set<string>();
      for (const bundle of side.bundles) {
        const v = check(side, bundle, trust());
        kinds.add(v.kind);
        assert.equal(v.verdict.authentic, true, JSON.stringify(v.verdict.checks, null, 1));
        for (const c of ['tlog', 'inclusion-proof', 'checkpoint', 'timestamp', 'signature'])
          assert.equal(statusOf(v, c), 'passed', `${c}: ${JSON.stringify(v.verdict.checks)}`);
      }
      assert.deepEqual([...kinds].sort(), ['attestation', 'signature']);
    });

    test(`${name}: an altered timestamp fails the timestamp check`, () => {
      for (const bundle of altered(side, (b) => {
        const t = b.verificationMaterial.timestampVerificationData!.rfc3161Timestamps[0]!;
        t.signedTimestamp = flip(t.signedTimestamp, -10); // inside the TSA's signature
      }))
        assertFails(check(side, bundle, trust()), 'timestamp', /./);
    });

    test(`${name}: an altered inclusion-proof hash fails inclusion-proof`, () => {
      for (const bundle of altered(side, (b) => {
        const proof = b.verificationMaterial.tlogEntries[0]!.inclusionProof;
        proof.hashes[0] = flip(proof.hashes[0]!, 0);
      }))
        assertFails(check(side, bundle, trust()), 'inclusion-proof', /root hash mismatch/);
    });

    test(`${name}: an altered checkpoint signature fails checkpoint`, () => {
      for (const bundle of altered(side, (b) => {
        const cp = b.verificationMaterial.tlogEntries[0]!.inclusionProof.checkpoint;
        const [note, sigs] = cp.envelope.split('\n\n') as [string, string];
        const [dash, signer, sig] = sigs.trimEnd().split(' ') as [string, string, string];
        cp.envelope = `${note}\n\n${dash} ${signer} ${flip(sig, -1)}\n`;
      }))
        assertFails(check(side, bundle, trust()), 'checkpoint', /signature invalid/);
    });

    test(`${name}: a trusted root without the timestamp authority fails the timestamp`, () => {
      const root = rootOf({ ...fixture.trustedRoot, timestampAuthorities: [] });
      const t = name === 'key' ? KEY : keylessPolicy(root);
      for (const bundle of side.bundles)
        assertFails(check(side, bundle, t, root), 'timestamp', /the trusted root has no timestamp authority/);
    });

    test(`${name}: a trusted root without the Rekor v2 log fails tlog`, () => {
      const tlogs = fixture.trustedRoot.tlogs.filter((t) => t.publicKey.keyDetails !== 'PKIX_ED25519');
      const root = rootOf({ ...fixture.trustedRoot, tlogs });
      const t = name === 'key' ? KEY : keylessPolicy(root);
      for (const bundle of side.bundles)
        assertFails(check(side, bundle, t, root), 'tlog', /not a transparency log of the trusted root/);
    });
  }

  test('key: another key fails the signature, and the entry names another signer', () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    for (const bundle of fixture.key.bundles) {
      const v = check(fixture.key, bundle, other);
      assertFails(v, 'signature', /./);
      assertFails(v, 'tlog', /another certificate or key/);
    }
  });

  test('keyless: without its timestamp the signing time is unknown, and the expired certificate fails', () => {
    for (const bundle of altered(fixture.keyless, (b) => {
      delete b.verificationMaterial.timestampVerificationData;
    })) {
      const v = check(fixture.keyless, bundle, keylessPolicy(ROOT));
      assertFails(v, 'timestamp', /a keyless signature needs one/);
      assertFails(v, 'certificate', /signing time is unknown/);
    }
  });

  test('key: a bundle without its timestamp still passes (a timestamp is checked when present)', () => {
    for (const bundle of altered(fixture.key, (b) => {
      delete b.verificationMaterial.timestampVerificationData;
    })) {
      const v = check(fixture.key, bundle, KEY);
      assert.equal(v.verdict.authentic, true, JSON.stringify(v.verdict.checks));
      assert.equal(statusOf(v, 'timestamp'), 'skipped');
    }
  });

  test('--insecure-ignore-tlog: no log checks, but timestamps are still checked and still date a certificate', () => {
    const ignore = (side: Side, bundle: string | Buffer, trust: SignerTrust): BundleVerdict =>
      checkBundle('fixture', Buffer.from(bundle), trust, side.image, {}, undefined, {
        trustedRoot: ROOT,
        ignoreTlog: true,
      });
    for (const bundle of fixture.keyless.bundles) {
      const v = ignore(fixture.keyless, bundle, keylessPolicy(ROOT));
      assert.equal(v.verdict.authentic, true, JSON.stringify(v.verdict.checks));
      assert.equal(statusOf(v, 'tlog'), undefined);
    }
    const tampered = altered(fixture.keyless, (b) => {
      const t = b.verificationMaterial.timestampVerificationData!.rfc3161Timestamps[0]!;
      t.signedTimestamp = flip(t.signedTimestamp, -10);
    });
    for (const bundle of tampered)
      assertFails(ignore(fixture.keyless, bundle, keylessPolicy(ROOT)), 'timestamp', /not signed by a timestamp/);
  });

  test('keyless: another identity fails the certificate', () => {
    const policy = { ...keylessPolicy(ROOT), identity: stringMatcher('https://example.com/other', false) };
    for (const bundle of fixture.keyless.bundles)
      assertFails(check(fixture.keyless, bundle, policy), 'certificate', /does not match/);
  });
});

describe('real Rekor v1 bundles under the same trusted root', () => {
  const side = fixture.keyRekorV1;
  const key = createPublicKey(side.publicKey);

  test('the SET is checked with the root’s key for the entry’s log ID, and the v1 checkpoint and timestamp', () => {
    for (const bundle of side.bundles) {
      const v = check(side, bundle, key);
      assert.equal(v.verdict.authentic, true, JSON.stringify(v.verdict.checks, null, 1));
      for (const c of ['tlog', 'inclusion-proof', 'checkpoint', 'timestamp'])
        assert.equal(statusOf(v, c), 'passed', `${c}: ${JSON.stringify(v.verdict.checks)}`);
      assert.match(v.verdict.checks.find((c) => c.name === 'tlog')!.detail, /SET verifies/);
    }
  });

  test('a trusted root without that log fails tlog', () => {
    const tlogs = fixture.trustedRoot.tlogs.filter((t) => t.publicKey.keyDetails === 'PKIX_ED25519');
    const root = rootOf({ ...fixture.trustedRoot, tlogs });
    for (const bundle of side.bundles)
      assertFails(check(side, bundle, key, root), 'tlog', /not a transparency log of the trusted root/);
  });
});

describe('parseTrustedRoot', () => {
  test('refuses what is not a trusted root, naming the file', () => {
    assert.throws(() => parseTrustedRoot('{', 'x.json'), /x\.json: not a trusted root: not JSON/);
    assert.throws(() => parseTrustedRoot('{"mediaType":"text/plain"}', 'x.json'), /not a sigstore trusted root/);
    const empty = JSON.stringify({
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      tlogs: [],
      certificateAuthorities: [],
      ctlogs: [],
      timestampAuthorities: [],
    });
    assert.throws(() => parseTrustedRoot(empty, 'x.json'), /names no transparency log/);
  });

  test('reads the stack’s logs, Fulcio root and timestamp authority', () => {
    assert.equal(ROOT.tlogs.length, fixture.trustedRoot.tlogs.length);
    assert.equal(ROOT.timestampAuthorities.length, fixture.trustedRoot.timestampAuthorities.length);
    assert.ok(ROOT.fulcio && ROOT.fulcio.roots.length > 0);
  });
});
