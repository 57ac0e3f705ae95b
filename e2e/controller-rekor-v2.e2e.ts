// `chainsmith.signing-config` on the real stack: the controller (with a key, a Vault KMS key or keylessly) takes its
// transparency log and timestamp authority from a sigstore signing config — the stack's rekor-tiles (Rekor v2) and
// timestamp authority (e2e/stack/addons/sigstore2-up.sh) — and writes sigstore bundles (referrers in olareg) carrying
// the v0.0.2 entry, its inclusion proof and checkpoint, and an RFC 3161 timestamp. cosign v3 verifies them against the stack's
// trusted_root.json with the transparency log required; a bundle whose timestamp or inclusion proof was altered
// fails. The config file is switched from Rekor v1 to v2 under the running controller.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTool } from './lib/cosign.js';
import { fulcioEnv, sigstore2Env, verifiersEnv } from './lib/env.js';
import { fetchManifest, pushRandomImage, putManifest, type Descriptor, type PushedImage } from './lib/registry.js';
import { bundleReferrers, signImageRun, startRekorV2Signer, tamperBundles, type SigningSetup } from './lib/rekor-v2.js';
import { eventsOf } from './lib/kube.js';
import { completeImageTaskRun } from './lib/scenario.js';
import { getTaskRun } from './lib/tekton.js';
import { waitFor } from './lib/wait.js';

type Setup = SigningSetup;

/**
 * cosign v3 verify (or verify-attestation) with the stack's trusted root: the transparency log is required, and for
 * keyless signatures a timestamp (Rekor v2 gives no signing time). No CT log in the stack: --insecure-ignore-sct.
 */
function cosign3(s: Setup, command: 'verify' | 'verify-attestation', ref: string) {
  const trust = s.secrets
    ? ['--key', join(s.secrets, 'cosign.pub')]
    : ['--certificate-identity', s.identity!, '--certificate-oidc-issuer', fulcioEnv().issuer, '--insecure-ignore-sct'];
  // prettier-ignore
  return runTool(verifiersEnv().cosign3, [
    command, ...trust, '--trusted-root', sigstore2Env().trustedRoot,
    '--allow-http-registry', ...(command === 'verify-attestation' ? ['--type', 'slsaprovenance'] : []), ref,
  ]);
}

interface Referrer {
  manifest: Descriptor;
  bundle: {
    verificationMaterial: {
      tlogEntries: Array<{
        kindVersion: { kind: string; version: string };
        inclusionProof: { rootHash: string; hashes: string[] };
      }>;
      timestampVerificationData?: { rfc3161Timestamps: Array<{ signedTimestamp: string }> };
    };
  };
  layer: Descriptor;
  json: Record<string, unknown>;
}

async function referrers(image: PushedImage): Promise<Referrer[]> {
  return (await bundleReferrers(image)).map((r) => ({
    manifest: r.manifest,
    json: r.json,
    layer: r.layer,
    bundle: JSON.parse(r.blob.toString()) as Referrer['bundle'],
  }));
}

describe('controller with chainsmith.signing-config and a key: Rekor v2 and a timestamp authority', () => {
  let s: Setup;
  before(async () => {
    s = await startRekorV2Signer('rekor-v2', 'key');
  });
  after(async () => {
    await s?.controller.stop();
  });

  test('bundles carry a Rekor v2 entry and a timestamp, and cosign v3 verifies them with the trusted root', async () => {
    const { image, annotations } = await signImageRun(s, 'signed');
    const ref = `${image.repository}@${image.digest}`;
    assert.match(
      annotations['chains.tekton.dev/transparency'] ?? '',
      new RegExp(`^${sigstore2Env().rekorV2Url}#logIndex=\\d+$`),
    );
    const found = await referrers(image);
    assert.equal(found.length, 2, 'the image signature and the provenance');
    for (const r of found) {
      assert.deepEqual(
        r.bundle.verificationMaterial.tlogEntries.map((e) => e.kindVersion.version),
        ['0.0.2'],
      );
      assert.equal(r.bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps.length, 1);
    }
    for (const command of ['verify', 'verify-attestation'] as const) {
      const out = await cosign3(s, command, ref);
      assert.equal(out.code, 0, `${command}: ${out.out}`);
    }
  });

  // With a key, cosign v3 requires no timestamp (the keyless suite below alters one); the log entry it requires.
  test('a bundle whose Rekor v2 inclusion proof was altered is refused by cosign v3', async () => {
    const { image } = await signImageRun(s, 'bad-proof');
    await tamperBundles<Referrer['bundle']>(image, (b) => {
      // a sibling hash of the audit path: the path no longer leads to the checkpoint's root
      const proof = b.verificationMaterial.tlogEntries[0]!.inclusionProof;
      assert.ok(proof.hashes.length > 0, 'the log holds more than this entry');
      const hash = Buffer.from(proof.hashes[0]!, 'base64');
      hash[0] = hash[0]! ^ 0xff;
      proof.hashes[0] = hash.toString('base64');
    });
    const out = await cosign3(s, 'verify', `${image.repository}@${image.digest}`);
    assert.notEqual(out.code, 0, out.out);
  });

  test('switching the signing config from Rekor v1 to v2 applies to the next run; earlier runs still verify', async () => {
    await copyFile(join(sigstore2Env().signingConfig, '..', 'signing_config.rekor-v1.json'), s.signingConfig);
    const v1 = await signImageRun(s, 'on-v1');
    assert.match(v1.annotations['chains.tekton.dev/transparency'] ?? '', /\/api\/v1\/log\/entries\?logIndex=\d+$/);
    const v1Entries = (await referrers(v1.image)).map((r) => r.bundle.verificationMaterial.tlogEntries[0]?.kindVersion);
    assert.ok(
      v1Entries.every((k) => k?.version !== '0.0.2'),
      JSON.stringify(v1Entries),
    );

    await copyFile(sigstore2Env().signingConfig, s.signingConfig);
    const v2 = await signImageRun(s, 'on-v2');
    assert.match(v2.annotations['chains.tekton.dev/transparency'] ?? '', /#logIndex=\d+$/);
    for (const { image } of [v1, v2]) {
      const out = await cosign3(s, 'verify', `${image.repository}@${image.digest}`);
      assert.equal(out.code, 0, out.out);
    }
  });
});

// A KMS key (Vault transit, hashivault://) signs what goes to Rekor v2 and the TSA like a key from signing-secrets:
// the entry is a hashedrekord over the KMS signature, and cosign v3 verifies with the public key Vault reports.
describe('controller with chainsmith.signing-config and a KMS key: Rekor v2 and a timestamp authority', () => {
  let s: Setup;
  before(async () => {
    s = await startRekorV2Signer('rekor-v2-kms', 'kms');
  });
  after(async () => {
    await s?.controller.stop();
  });

  test('KMS-signed bundles carry a Rekor v2 entry and a timestamp, and cosign v3 verifies them', async () => {
    const { image, annotations } = await signImageRun(s, 'kms');
    assert.match(annotations['chains.tekton.dev/transparency'] ?? '', /#logIndex=\d+$/);
    const found = await referrers(image);
    assert.equal(found.length, 2, 'the image signature and the provenance');
    for (const r of found) {
      assert.equal(r.bundle.verificationMaterial.tlogEntries[0]?.kindVersion.version, '0.0.2');
      assert.equal(r.bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps.length, 1);
    }
    for (const command of ['verify', 'verify-attestation'] as const) {
      const out = await cosign3(s, command, `${image.repository}@${image.digest}`);
      assert.equal(out.code, 0, `${command}: ${out.out}`);
    }
  });
});

describe('controller with chainsmith.signing-config and Fulcio: keyless with Rekor v2 and a timestamp', () => {
  let s: Setup;
  before(async () => {
    s = await startRekorV2Signer('rekor-v2-keyless', 'keyless');
  });
  after(async () => {
    await s?.controller.stop();
  });

  test('keyless bundles verify with cosign v3 for the identity; an altered timestamp is refused', async () => {
    const good = (await signImageRun(s, 'keyless')).image;
    for (const command of ['verify', 'verify-attestation'] as const) {
      const out = await cosign3(s, command, `${good.repository}@${good.digest}`);
      assert.equal(out.code, 0, `${command}: ${out.out}`);
    }
    const bad = (await signImageRun(s, 'keyless-bad-timestamp')).image;
    await tamperBundles<Referrer['bundle']>(bad, (b) => {
      const t = b.verificationMaterial.timestampVerificationData!.rfc3161Timestamps[0]!;
      const der = Buffer.from(t.signedTimestamp, 'base64');
      der[der.length - 10] = der[der.length - 10]! ^ 0xff;
      t.signedTimestamp = der.toString('base64');
    });
    const out = await cosign3(s, 'verify', `${bad.repository}@${bad.digest}`);
    assert.notEqual(out.code, 0, out.out);
  });
});

// `chainsmith.trusted-root`: what Rekor v2 and the TSA return is checked against the trusted root before anything is
// stored. A root that does not list the stack's TSA makes every timestamp untrusted: nothing is signed, and the
// Event says which check failed.
describe('controller with chainsmith.trusted-root: entries and timestamps checked before they are stored', () => {
  let good: Setup;
  let bad: Setup;
  before(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chainsmith-trusted-root-'));
    const withoutTsa = join(dir, 'trusted_root.json');
    const root = JSON.parse(await readFile(sigstore2Env().trustedRoot, 'utf8')) as Record<string, unknown>;
    await writeFile(withoutTsa, JSON.stringify({ ...root, timestampAuthorities: [] }));
    good = await startRekorV2Signer('rekor-v2-root', 'key', 'rekor-v2', {
      'chainsmith.trusted-root': sigstore2Env().trustedRoot,
    });
    bad = await startRekorV2Signer('rekor-v2-badroot', 'key', 'rekor-v2', { 'chainsmith.trusted-root': withoutTsa });
  });
  after(async () => {
    await good?.controller.stop();
    await bad?.controller.stop();
  });

  test('with the stack’s trusted root runs are signed; with one lacking its TSA none is, and an Event says why', async () => {
    const { image } = await signImageRun(good, 'root-ok');
    const out = await cosign3(good, 'verify', `${image.repository}@${image.digest}`);
    assert.equal(out.code, 0, out.out);

    const pushed = await pushRandomImage(`${verifiersEnv().referrersRegistry}/rekor-v2/root-bad`);
    const name = await completeImageTaskRun(bad.ns, pushed);
    const event = await waitFor(
      async () =>
        (await eventsOf(bad.ns, { name })).find(
          (e) => e.reason === 'TransparencyFailed' && /trusted root/.test(e.message ?? ''),
        ),
      { timeoutMs: 60_000, description: 'a TransparencyFailed Event naming the trusted root' },
    );
    assert.match(event.message ?? '', /timestamp: /);
    const run = await getTaskRun(bad.ns, name);
    assert.notEqual(run.metadata.annotations?.['chains.tekton.dev/signed'], 'true');
    assert.equal((await bundleReferrers(pushed)).length, 0, 'nothing stored');
  });
});

// The tag layout (`storage.oci.encoding-format: dsse`, cosign's `.sig`/`.att` tags) has no place for a Rekor v2
// entry: cosign's `dev.sigstore.cosign/bundle` annotation holds only a Rekor v1 SET. The RFC 3161 timestamp goes in
// `dev.sigstore.cosign/rfc3161timestamp`, which cosign v3 reads with --use-signed-timestamps.
// (Verifiers of the tag layout therefore cannot check the Rekor v2 inclusion; docs/compatibility.md says so.)
describe('tag layout with Rekor v2: the timestamp annotation cosign v3 reads', () => {
  let s: Setup;
  before(async () => {
    s = await startRekorV2Signer('rekor-v2-tags', 'key', 'rekor-v2', { 'storage.oci.encoding-format': 'dsse' });
  });
  after(async () => {
    await s?.controller.stop();
  });

  test('the .sig layer carries the timestamp; cosign v3 verifies it, and not once it is altered', async () => {
    const { image } = await signImageRun(s, 'tags');
    const tag = `${image.digest.replace(':', '-')}.sig`;
    const sig = await fetchManifest(image.repository, tag);
    assert.ok(sig, `no ${tag}`);
    const layers = sig.json.layers as Array<Descriptor & { annotations: Record<string, string> }>;
    const stamp = layers[0]!.annotations['dev.sigstore.cosign/rfc3161timestamp'];
    assert.ok(stamp, JSON.stringify(layers[0]!.annotations));
    assert.equal(layers[0]!.annotations['dev.sigstore.cosign/bundle'], undefined, 'no Rekor v1 SET');
    const ref = `${image.repository}@${image.digest}`;
    // prettier-ignore
    const args = ['verify', '--key', join(s.secrets!, 'cosign.pub'), '--insecure-ignore-tlog', '--use-signed-timestamps',
      '--trusted-root', sigstore2Env().trustedRoot, '--allow-http-registry', ref];
    for (const command of ['verify', 'verify-attestation']) {
      const extra = command === 'verify-attestation' ? ['--type', 'slsaprovenance'] : [];
      const out = await runTool(verifiersEnv().cosign3, [command, ...extra, ...args.slice(1)]);
      assert.equal(out.code, 0, `${command}: ${out.out}`);
    }

    // the same .sig tag, its timestamp's signature bytes flipped
    const der = Buffer.from((JSON.parse(stamp) as { SignedRFC3161Timestamp: string }).SignedRFC3161Timestamp, 'base64');
    der[der.length - 10] = der[der.length - 10]! ^ 0xff;
    layers[0]!.annotations['dev.sigstore.cosign/rfc3161timestamp'] = JSON.stringify({
      SignedRFC3161Timestamp: der.toString('base64'),
    });
    const body = Buffer.from(JSON.stringify(sig.json));
    await putManifest(image.repository, tag, sig.mediaType, body);
    const altered = await runTool(verifiersEnv().cosign3, args);
    assert.notEqual(altered.code, 0, altered.out);
    assert.match(altered.out, /unable to verify RFC3161 timestamp/);
  });
});
