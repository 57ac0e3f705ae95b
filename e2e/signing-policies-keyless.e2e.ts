// A SigningPolicy with a keyless signer, on the real stack (API server, Fulcio, Rekor, registry, cosign): the
// controller asks the TokenRequest API for a token of the TENANT's ServiceAccount (audience sigstore), exchanges it
// at Fulcio and signs; cosign verifies the image for that tenant identity and not for the controller's. A policy
// naming a ServiceAccount its namespace is not granted is refused and nothing is signed with it.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cosign, createNamespace, eventsOf, randomSuffix, waitFor, type ControllerProcess } from './lib/index.js';
import { fulcioEnv, rekorEnv } from './lib/env.js';
import { createServiceAccount, serviceAccountIdentity } from './lib/identity.js';
import { kubectl, startSigningController, writeChainsConfig, x509SecretsDir } from './lib/scenario.js';
import { applyYaml, cosignKeyless, imageRun, waitMarked } from './lib/signing-policies.js';

describe('SigningPolicy with a keyless signer: the tenant ServiceAccount’s identity', () => {
  const suffix = randomSuffix();
  let systemNs = '';
  let ns = '';
  let nsOther = '';
  let keys = '';
  let controller: ControllerProcess;
  const grant = `sp-keyless-${suffix}`;

  before(
    async () => {
      const fulcio = fulcioEnv();
      systemNs = await createNamespace('spk-sys');
      ns = await createNamespace('spk-team');
      nsOther = await createNamespace('spk-other');
      await createServiceAccount(ns, 'builder');
      await createServiceAccount(nsOther, 'builder');
      keys = await x509SecretsDir('chainsmith-spk-');
      // the cluster signs with its key; Fulcio's address is the platform's, the identity each tenant's
      await writeChainsConfig(systemNs, {
        'artifacts.taskrun.format': 'in-toto',
        'artifacts.taskrun.storage': 'tekton,oci',
        'artifacts.oci.storage': 'oci',
        'signers.x509.fulcio.address': fulcio.url,
        'signers.x509.fulcio.issuer': fulcio.issuer,
        'transparency.enabled': 'true',
        'transparency.url': rekorEnv().url,
      });
      await applyYaml(`apiVersion: chainsmith.dev/v1alpha1
kind: SigningPolicyGrant
metadata: {name: ${grant}}
spec:
  namespaces: [${ns}]
  serviceAccounts: [builder]
`);
      for (const n of [ns, nsOther])
        await applyYaml(`apiVersion: chainsmith.dev/v1alpha1
kind: SigningPolicy
metadata: {name: keyless, namespace: ${n}}
spec:
  signer: {keyless: {serviceAccount: builder}}
`);
      controller = await startSigningController(`${ns},${nsOther}`, systemNs, keys, {
        env: { SIGSTORE_REKOR_PUBLIC_KEY: rekorEnv().publicKey },
      });
      await controller.waitForLog(/watching SigningPolicies/);
    },
    { timeout: 180_000 },
  );

  after(async () => {
    await controller?.stop();
    await kubectl(['delete', 'signingpolicygrant', grant, '--ignore-not-found']);
    if (keys) await rm(keys, { recursive: true, force: true });
  });

  test('the image verifies for the tenant ServiceAccount’s identity, not for another, nor with the cluster key', async () => {
    const run = await imageRun(ns, `spk-${suffix}/app`);
    const tr = await waitMarked(ns, run.name, 'true', controller);
    assert.equal(tr.metadata.annotations?.['chainsmith.dev/policy-signer'], `keyless/${ns}/builder`);
    const tenant = serviceAccountIdentity(ns, 'builder');
    const ok = await cosignKeyless(['verify', run.image.ref], tenant);
    assert.equal(ok.code, 0, `cosign verify for ${tenant}:\n${ok.out}`);
    const att = await cosignKeyless(['verify-attestation', '--type', 'slsaprovenance', run.image.ref], tenant);
    assert.equal(att.code, 0, `cosign verify-attestation for ${tenant}:\n${att.out}`);
    const other = await cosignKeyless(['verify', run.image.ref], serviceAccountIdentity(nsOther, 'builder'));
    assert.notEqual(other.code, 0, 'another namespace’s identity does not verify');
    const cluster = await cosign([
      'verify',
      '--key',
      join(keys, 'cosign.pub'),
      '--insecure-ignore-tlog',
      '--allow-http-registry',
      run.image.ref,
    ]);
    assert.notEqual(cluster.code, 0, 'nor the cluster key');
    // the controller's log names the identity's source but never holds the token
    assert.doesNotMatch(controller.logs(), /eyJ[\w-]{10,}\.[\w-]{10,}\./);
  });

  test('a namespace not granted the ServiceAccount is refused; nothing is signed there', async () => {
    const run = await imageRun(nsOther, `spk-${suffix}/other`);
    const ev = await waitFor(
      async () => (await eventsOf(nsOther, { name: run.name })).find((e) => e.reason === 'PolicyRefused'),
      { timeoutMs: 60_000, description: 'PolicyRefused Event' },
    );
    assert.match(ev.message ?? '', /ServiceAccount/);
    assert.match(ev.message ?? '', /builder/);
    await waitMarked(nsOther, run.name, 'failed', controller);
    const none = await cosignKeyless(['verify', run.image.ref], serviceAccountIdentity(nsOther, 'builder'));
    assert.notEqual(none.code, 0, `nothing signed:\n${none.out}`);
  });
});
