// `chainsmith verify --trusted-root` on the live stack: the controller signs images with `chainsmith.signing-config`
// (Rekor v2 and the timestamp authority of e2e/stack/addons/sigstore2-up.sh), with a key, with Vault's KMS key and
// keylessly through the stack's Fulcio (e2e/lib/rekor-v2.ts), and `verify` with the stack's trusted_root.json
// accepts them — the keyless ones without --fulcio-root or --rekor-public-key, the trusted root gives both. A bundle whose inclusion proof, checkpoint or timestamp was altered in the registry
// fails, and the report names the broken link.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fulcioEnv, sigstore2Env } from './lib/env.js';
import type { PushedImage } from './lib/registry.js';
import { chainsmithCli } from './lib/scenario.js';
import { signImage, startRekorV2Signer, tamperBundles, type SigningSetup } from './lib/rekor-v2.js';

type BundleJson = {
  verificationMaterial: {
    tlogEntries: Array<{ inclusionProof: { hashes: string[]; checkpoint: { envelope: string } } }>;
    timestampVerificationData?: { rfc3161Timestamps: Array<{ signedTimestamp: string }> };
  };
};

const flip = (b64: string, at: number): string => {
  const bytes = Buffer.from(b64, 'base64');
  const i = at < 0 ? bytes.length + at : at;
  bytes[i] = bytes[i]! ^ 0xff;
  return bytes.toString('base64');
};

/** `chainsmith verify --trusted-root` with the signer's key, or keylessly with its identity and the stack's issuer. */
function verify(s: SigningSetup, image: PushedImage) {
  const trust = s.secrets
    ? ['--key', join(s.secrets, 'cosign.pub')]
    : ['--certificate-identity', s.identity!, '--certificate-oidc-issuer', fulcioEnv().issuer];
  // prettier-ignore
  return chainsmithCli([
    'verify', '--trusted-root', sigstore2Env().trustedRoot, ...trust, '--require-attestation', '--json',
    `${image.repository}@${image.digest}`,
  ], { SIGSTORE_ROOT_FILE: '', SIGSTORE_REKOR_PUBLIC_KEY: '' });
}

interface JsonReport {
  verified: boolean;
  firstFailure?: string;
  signatures: Array<{ checks: Array<{ name: string; status: string }> }>;
  attestations: Array<{ checks: Array<{ name: string; status: string }> }>;
}

function report(out: { stdout: string; stderr: string }): JsonReport {
  try {
    return JSON.parse(out.stdout) as JsonReport;
  } catch {
    throw new Error(`not a JSON report: ${out.stdout}\n${out.stderr}`);
  }
}

const LINKS = ['tlog', 'inclusion-proof', 'checkpoint', 'timestamp'];

for (const signer of ['key', 'kms', 'keyless'] as const) {
  describe(`chainsmith verify --trusted-root: Rekor v2 bundles the controller signed (${signer})`, () => {
    let s: SigningSetup;
    before(async () => {
      s = await startRekorV2Signer(`verify-rekor-v2-${signer}`, signer);
    });
    after(async () => {
      await s?.controller.stop();
    });

    test('the signature and the provenance pass every link', async () => {
      const image = await signImage(s, `${signer}-good`);
      const out = await verify(s, image);
      const r = report(out);
      assert.equal(out.code, 0, out.stdout + out.stderr);
      assert.equal(r.verified, true);
      for (const item of [...r.signatures, ...r.attestations])
        for (const name of LINKS)
          assert.equal(item.checks.find((c) => c.name === name)?.status, 'passed', `${name}: ${out.stdout}`);
    });

    const tampers: Array<[string, (b: BundleJson) => void, RegExp]> = [
      [
        'inclusion proof',
        (b) => {
          const proof = b.verificationMaterial.tlogEntries[0]!.inclusionProof;
          proof.hashes[0] = flip(proof.hashes[0]!, 0);
        },
        /inclusion-proof: root hash mismatch/,
      ],
      [
        'checkpoint signature',
        (b) => {
          const cp = b.verificationMaterial.tlogEntries[0]!.inclusionProof.checkpoint;
          const [note, sigs] = cp.envelope.split('\n\n') as [string, string];
          const [dash, name, sig] = sigs.trimEnd().split(' ') as [string, string, string];
          cp.envelope = `${note}\n\n${dash} ${name} ${flip(sig, -1)}\n`;
        },
        /checkpoint: signature invalid/,
      ],
      [
        'timestamp',
        (b) => {
          const t = b.verificationMaterial.timestampVerificationData!.rfc3161Timestamps[0]!;
          t.signedTimestamp = flip(t.signedTimestamp, -10);
        },
        /timestamp: .*not signed by a timestamp authority of the trusted root/,
      ],
    ];
    for (const [what, alter, named] of tampers) {
      test(`an altered ${what} fails, naming the link`, async () => {
        const image = await signImage(s, `${signer}-bad-${what.replace(/ /g, '-')}`);
        await tamperBundles<BundleJson>(image, alter);
        const out = await verify(s, image);
        const r = report(out);
        assert.equal(out.code, 1, out.stdout + out.stderr);
        assert.equal(r.verified, false);
        assert.match(r.firstFailure ?? '', named);
      });
    }
  });
}
