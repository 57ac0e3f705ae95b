// Kyverno, the admission verifier users actually run, against what the real chainsmith controller signed on the stack:
// the copyable policies of docs/policies/kyverno/ (placeholders replaced, nothing else changed but what their headers
// tell users to change) applied with the Kyverno CLI to Pods running those images. For each signer (key with Rekor,
// KMS key-only, keyless) and each encoding (cosign tags, sigstore-bundle referrers), a Pod is admitted or denied as a
// cluster with the policy would do it, and every Kyverno cell of the interop matrix is recorded from what was seen.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  clusterPolicyEntry,
  fillPolicy,
  kyvernoApply,
  kyvernoBinary,
  readDocsPolicy,
  startTufMirror,
  withClusterPolicyEntry,
  withImageValidatingAttestors,
  type KyvernoVerdict,
  type PolicyDocument,
  type PolicyValues,
  type TufMirror,
} from '../lib/kyverno.js';
import { recordCell, recordNegative, type Encoding, type Payload, type SignerKind } from '../lib/interop.js';
import { stackEnv } from '../lib/env.js';
import {
  closeScenarios,
  freshSignedImage,
  scenario,
  tamperAttestation,
  tamperSignature,
  type Scenario,
  type SignedImage,
} from './harness.js';

const FILE = 'e2e/interop/kyverno.e2e.ts';
const CP = 'Kyverno ClusterPolicy';
const IVP = 'Kyverno ImageValidatingPolicy';
const OTHER_BUILDER = 'https://ci.example.com/not-our-builder';

const NOTE_CP_REFERRERS =
  'ClusterPolicy verifyImages reads only cosign .sig/.att tags: it finds no signature in OCI 1.1 sigstore-bundle ' +
  'referrers (not even with cosignOCI11: true); use ImageValidatingPolicy';
const NOTE_IVP_TUF =
  'ImageValidatingPolicy checks Rekor or a Fulcio certificate only after loading a Sigstore trust root from TUF ' +
  '(the policy names a TUF mirror serving the private Rekor/Fulcio)';
const NOTE_IVP_ATT_NO_TLOG =
  'Kyverno v1.19.1 ImageValidatingPolicy refuses .att provenance without a Rekor entry even with ' +
  'insecureIgnoreTlog (verifyAttestationSignatures requires a verified tlog bundle); the image signature passes';
const NOTE_IVP_ANY_BUNDLE =
  'Kyverno v1.19.1 verifyImageSignatures accepts any verified bundle referrer as the image signature, so a tampered ' +
  'signature bundle goes unnoticed while an intact provenance bundle of the same key exists; the SLSA policies catch ' +
  'tampered provenance';

let tuf: TufMirror;

before(async () => {
  kyvernoBinary(); // fails the file at once, saying why, when the CLI is not there
  const vars = stackEnv().vars;
  tuf = await startTufMirror({
    rekorUrl: need(vars, 'REKOR_URL'),
    rekorPublicKeyPem: readFileSync(need(vars, 'REKOR_PUBLIC_KEY'), 'utf8'),
    fulcioUrl: need(vars, 'FULCIO_URL'),
    fulcioRootPem: readFileSync(need(vars, 'FULCIO_ROOT'), 'utf8'),
  });
});
after(async () => {
  await tuf?.close();
  await closeScenarios();
});

function need(vars: Record<string, string>, name: string): string {
  const v = process.env[name] ?? vars[name];
  if (!v) throw new Error(`${name} is not set: the stack's add-on is not up (npm run stack:up)`);
  return v;
}

/** The placeholder values for a scenario, as a user of that signer fills them in. */
function valuesFor(s: Scenario, overrides: Partial<PolicyValues> = {}): PolicyValues {
  const t = s.trust;
  const vars = stackEnv().vars;
  const pem = (text: string | undefined, file: string | undefined): string | undefined =>
    text ?? (file ? readFileSync(file, 'utf8') : undefined);
  return {
    registry: s.registry,
    publicKeyPem: pem(t.publicKeyPem, t.publicKeyFile),
    builderId: s.builderId,
    rekorUrl: t.rekorUrl ?? vars.REKOR_URL,
    rekorPublicKeyPem: pem(undefined, t.rekorPublicKeyFile ?? vars.REKOR_PUBLIC_KEY),
    fulcioRootPem: pem(undefined, t.fulcioRootFile ?? vars.FULCIO_ROOT),
    identity: t.identity,
    issuer: t.issuer,
    tuf,
    ...overrides,
  };
}

/** The docs policies a user of this scenario's signer copies: image signature and SLSA provenance, per kind. */
function policiesFor(s: Scenario): {
  cpSignature: PolicyDocument;
  cpSlsa: (payload: 'SLSA v0.2' | 'SLSA v1.0') => PolicyDocument;
  ivpSignature: PolicyDocument;
  ivpSlsa: (payload: 'SLSA v0.2' | 'SLSA v1.0') => PolicyDocument;
} {
  const cpFile =
    s.signer === 'keyless'
      ? 'clusterpolicy-signature-keyless.yaml'
      : s.transparency
        ? 'clusterpolicy-signature-key-rekor.yaml'
        : 'clusterpolicy-signature-key.yaml';
  const ivpFile =
    s.signer === 'keyless'
      ? 'imagevalidatingpolicy-signature-keyless.yaml'
      : s.transparency
        ? 'imagevalidatingpolicy-signature-key-rekor.yaml'
        : 'imagevalidatingpolicy-signature-key.yaml';
  const cpSignature = readDocsPolicy(cpFile);
  const ivpSignature = readDocsPolicy(ivpFile);
  // The SLSA policies are key-only as written; their headers say to take the attestor of the signature policy
  // for Rekor or keyless signing.
  const keyOnly = s.signer !== 'keyless' && !s.transparency;
  const slsaFile = (kind: string, payload: string): string =>
    `${kind}-slsa-${payload === 'SLSA v0.2' ? 'v0.2' : 'v1'}.yaml`;
  return {
    cpSignature,
    cpSlsa: (payload) => {
      const doc = readDocsPolicy(slsaFile('clusterpolicy', payload));
      return keyOnly ? doc : withClusterPolicyEntry(doc, clusterPolicyEntry(cpSignature));
    },
    ivpSignature,
    ivpSlsa: (payload) => {
      const doc = readDocsPolicy(slsaFile('imagevalidatingpolicy', payload));
      const attestors = (ivpSignature as { spec: { attestors: unknown } }).spec.attestors;
      return keyOnly ? doc : withImageValidatingAttestors(doc, attestors);
    },
  };
}

async function apply(doc: PolicyDocument, values: PolicyValues, image: SignedImage): Promise<KyvernoVerdict> {
  return kyvernoApply(fillPolicy(doc, values), [image.ref]);
}

function explain(v: KyvernoVerdict): string {
  return `results: ${JSON.stringify(v.results, null, 1)}\n--- kyverno output (tail) ---\n${v.output.slice(-3000)}`;
}

function assertAdmitted(v: KyvernoVerdict): void {
  assert.ok(v.admitted, `Kyverno denied the Pod:\n${explain(v)}`);
}

function assertDenied(v: KyvernoVerdict, message: RegExp): void {
  assert.ok(!v.admitted, `Kyverno admitted the Pod:\n${explain(v)}`);
  assert.ok(
    v.messages.some((m) => message.test(m)),
    `Kyverno denied the Pod, but no message matches ${message}:\n${explain(v)}`,
  );
}

const SIGNER_TEXT: Record<SignerKind, string> = {
  key: 'its key, logged in Rekor',
  KMS: 'a Vault KMS key, key-only',
  keyless: 'a Fulcio certificate, logged in Rekor',
};

for (const signer of ['key', 'KMS', 'keyless'] as const)
  for (const encoding of ['tags', 'referrers'] as const)
    describe(`images chainsmith signed with ${SIGNER_TEXT[signer]}, stored as ${encoding}`, () => {
      const suite = `images chainsmith signed with ${SIGNER_TEXT[signer]}, stored as ${encoding}`;
      const testName = (name: string): string => `${FILE} › ${suite} › ${name}`;
      const output = (payload: Payload): { payload: Payload; encoding: Encoding; signer: SignerKind } => ({
        payload,
        encoding,
        signer,
      });
      let s: Scenario;
      before(async () => {
        s = await scenario(signer, encoding);
      });

      if (encoding === 'tags') {
        const name1 = 'the ClusterPolicy admits a Pod whose image carries chainsmith’s signature';
        test(name1, async () => {
          const v = await apply(policiesFor(s).cpSignature, valuesFor(s), s.slsa02);
          assertAdmitted(v);
          recordCell(output('simplesigning'), CP, 'pass', testName(name1));
        });
        for (const payload of ['SLSA v0.2', 'SLSA v1.0'] as const) {
          const img = (): SignedImage => (payload === 'SLSA v0.2' ? s.slsa02 : s.slsa10);
          const name2 = `the ClusterPolicy admits a Pod whose image has ${payload} provenance from our builder`;
          test(name2, async () => {
            const v = await apply(policiesFor(s).cpSlsa(payload), valuesFor(s), img());
            assertAdmitted(v);
            recordCell(output(payload), CP, 'pass', testName(name2));
          });
          const name3 = `the ClusterPolicy denies a Pod whose ${payload} provenance names another builder`;
          test(name3, async () => {
            const v = await apply(policiesFor(s).cpSlsa(payload), valuesFor(s, { builderId: OTHER_BUILDER }), img());
            assertDenied(v, /the provenance is not from the expected builder/);
            if (signer === 'key' && payload === 'SLSA v0.2')
              recordNegative('wrong builder.id', CP, 'denied', testName(name3));
          });
        }
      } else {
        const name = 'the ClusterPolicy cannot see referrers: it denies a Pod whose image chainsmith did sign';
        test(name, async () => {
          const policies = policiesFor(s);
          const sig = await apply(policies.cpSignature, valuesFor(s), s.slsa02);
          assertDenied(sig, /no signatures found/);
          const slsa = await apply(policies.cpSlsa('SLSA v0.2'), valuesFor(s), s.slsa02);
          assertDenied(slsa, /no signatures found/);
          // cosignOCI11 (cosign's experimental OCI 1.1 layout) does not make it read sigstore bundles either
          const oci11 = structuredClone(policies.cpSignature) as {
            spec: { rules: { verifyImages: Record<string, unknown>[] }[] };
          };
          oci11.spec.rules[0]!.verifyImages[0]!.cosignOCI11 = true;
          assertDenied(await apply(oci11, valuesFor(s), s.slsa02), /no signatures found/);
          for (const payload of ['simplesigning', 'SLSA v0.2', 'SLSA v1.0'] as const)
            recordCell(output(payload), CP, 'n/a', testName(name), NOTE_CP_REFERRERS);
        });
      }

      // with Rekor or a certificate to check, the policy needs the TUF mirror
      const ivpNote = (): string | undefined => (signer === 'keyless' || s.transparency ? NOTE_IVP_TUF : undefined);
      const name4 = 'the ImageValidatingPolicy admits a Pod whose image carries chainsmith’s signature';
      test(name4, async () => {
        const v = await apply(policiesFor(s).ivpSignature, valuesFor(s), s.slsa02);
        assertAdmitted(v);
        recordCell(output('simplesigning'), IVP, 'pass', testName(name4), ivpNote());
      });
      for (const payload of ['SLSA v0.2', 'SLSA v1.0'] as const) {
        const img = (): SignedImage => (payload === 'SLSA v0.2' ? s.slsa02 : s.slsa10);
        const v1 = payload === 'SLSA v1.0' ? 'v1' : 'v0.2';
        // Kyverno v1.19.1: provenance in an .att tag without a Rekor entry is refused (see NOTE_IVP_ATT_NO_TLOG).
        const knownRefusal = encoding === 'tags' && signer === 'KMS';
        const name5 = knownRefusal
          ? `the ImageValidatingPolicy denies a Pod whose ${payload} provenance has no Rekor entry (Kyverno v1.19.1)`
          : `the ImageValidatingPolicy admits a Pod whose image has ${payload} provenance from our builder`;
        test(name5, async () => {
          const v = await apply(policiesFor(s).ivpSlsa(payload), valuesFor(s), img());
          if (knownRefusal) {
            assert.equal(s.transparency, false, 'the KMS scenario signs key-only');
            assertDenied(v, new RegExp(`the image has no SLSA ${v1.replace('.', '\\.')} provenance signed`));
            // the same image's signature passes the same attestor: it is the provenance check that refuses
            assertAdmitted(await apply(policiesFor(s).ivpSignature, valuesFor(s), img()));
            recordCell(output(payload), IVP, 'fail', testName(name5), NOTE_IVP_ATT_NO_TLOG);
            return;
          }
          assertAdmitted(v);
          recordCell(output(payload), IVP, 'pass', testName(name5), ivpNote());
        });
        if (encoding === 'referrers') {
          const name6 = `the ImageValidatingPolicy denies a Pod whose ${payload} provenance names another builder`;
          test(name6, async () => {
            const v = await apply(policiesFor(s).ivpSlsa(payload), valuesFor(s, { builderId: OTHER_BUILDER }), img());
            assertDenied(v, /the provenance is not from the expected builder/);
            if (signer === 'key' && payload === 'SLSA v0.2')
              recordNegative('wrong builder.id', IVP, 'denied', testName(name6));
          });
        }
      }
    });

describe('images Kyverno must refuse', () => {
  const suite = 'images Kyverno must refuse';
  const testName = (name: string): string => `${FILE} › ${suite} › ${name}`;
  // ClusterPolicy on the tag layout (the only one it reads), ImageValidatingPolicy on referrers (its native layout).
  const cases = [
    { verifier: CP, encoding: 'tags', kind: 'ClusterPolicy' },
    { verifier: IVP, encoding: 'referrers', kind: 'ImageValidatingPolicy' },
  ] as const;
  for (const c of cases) {
    const policy = (s: Scenario): PolicyDocument =>
      c.verifier === CP ? policiesFor(s).cpSignature : policiesFor(s).ivpSignature;
    const notSigned = c.verifier === CP ? /no signatures found|no matching signatures/ : /not signed with chainsmith/;

    const wrongKey = `the ${c.kind} denies a Pod whose image was signed with another key`;
    test(wrongKey, async () => {
      const s = await scenario('key', c.encoding);
      const v = await apply(policy(s), valuesFor(s, { publicKeyPem: s.trust.otherPublicKeyPem }), s.slsa02);
      assertDenied(v, c.verifier === CP ? /no matching signatures|invalid signature/ : notSigned);
      recordNegative('wrong key', c.verifier, 'denied', testName(wrongKey));
    });

    const unsigned = `the ${c.kind} denies a Pod whose image was never signed`;
    test(unsigned, async () => {
      const s = await scenario('key', c.encoding);
      const v = await apply(policy(s), valuesFor(s), s.unsigned);
      assertDenied(v, notSigned);
      recordNegative('unsigned image', c.verifier, 'denied', testName(unsigned));
    });

    const tampered = `the ${c.kind} denies a Pod whose provenance or signature layer was tampered with`;
    test(tampered, async () => {
      const s = await scenario('key', c.encoding);
      const slsa = c.verifier === CP ? policiesFor(s).cpSlsa('SLSA v0.2') : policiesFor(s).ivpSlsa('SLSA v0.2');
      const img = await freshSignedImage('key', c.encoding, 'SLSA v0.2');
      assertAdmitted(await apply(slsa, valuesFor(s), img));
      await tamperAttestation(img, c.encoding);
      const v1 = await apply(slsa, valuesFor(s), img);
      assertDenied(
        v1,
        c.verifier === CP ? /image attestations verification failed/ : /no SLSA v0\.2 provenance signed/,
      );
      // with the provenance broken too, nothing chainsmith signed is left: the signature policy denies
      await tamperSignature(img, c.encoding);
      const v2 = await apply(policy(s), valuesFor(s), img);
      assertDenied(v2, notSigned);
      if (c.verifier === CP) {
        // the tag layout keeps signature and provenance apart: a tampered .sig alone is refused
        const sigOnly = await freshSignedImage('key', c.encoding, 'SLSA v0.2');
        await tamperSignature(sigOnly, c.encoding);
        assertDenied(await apply(policy(s), valuesFor(s), sigOnly), notSigned);
      }
      recordNegative(
        'tampered layer',
        c.verifier,
        'denied',
        testName(tampered),
        c.verifier === IVP ? NOTE_IVP_ANY_BUNDLE : undefined,
      );
    });

    const notLogged = `the ${c.kind} with Rekor denies a Pod whose signature is not in the transparency log`;
    test(notLogged, async () => {
      // the KMS scenario signs key-only: its public key with the Rekor policy
      const kms = await scenario('KMS', c.encoding);
      const withRekor = readDocsPolicy(
        c.verifier === CP ? 'clusterpolicy-signature-key-rekor.yaml' : 'imagevalidatingpolicy-signature-key-rekor.yaml',
      );
      assertAdmitted(await apply(policy(kms), valuesFor(kms), kms.slsa02));
      const v = await apply(withRekor, valuesFor(kms), kms.slsa02);
      assertDenied(v, c.verifier === CP ? /not found in transparency log/ : /not in the transparency log/);
    });

    const otherIdentity = `the keyless ${c.kind} denies a Pod signed by another identity or issuer`;
    test(otherIdentity, async () => {
      const s = await scenario('keyless', c.encoding);
      const keyless = c.verifier === CP ? policiesFor(s).cpSignature : policiesFor(s).ivpSignature;
      const ivpMessage = /not signed keylessly by chainsmith/;
      const other = 'https://kubernetes.io/namespaces/elsewhere/serviceaccounts/intruder';
      const v1 = await apply(keyless, valuesFor(s, { identity: other }), s.slsa02);
      assertDenied(v1, c.verifier === CP ? /subject mismatch/ : ivpMessage);
      const v2 = await apply(keyless, valuesFor(s, { issuer: 'https://issuer.example.com' }), s.slsa02);
      assertDenied(v2, c.verifier === CP ? /issuer mismatch/ : ivpMessage);
    });

    if (c.verifier === IVP) {
      const sigOnly =
        'the ImageValidatingPolicy takes intact provenance for the image signature when the signature bundle was tampered with';
      test(sigOnly, async () => {
        const s = await scenario('key', c.encoding);
        const img = await freshSignedImage('key', c.encoding, 'SLSA v0.2');
        await tamperSignature(img, c.encoding);
        // Kyverno v1.19.1 verifies every bundle referrer as a possible signature: the SLSA bundle, signed with the
        // same key for the same digest, passes verifyImageSignatures (see NOTE_IVP_ANY_BUNDLE)
        assertAdmitted(await apply(policy(s), valuesFor(s), img));
      });
    }
  }
});
