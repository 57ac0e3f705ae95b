import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChainsmithError } from '../../../src/errors.js';
import { parseKmsRef } from '../../../src/signing/kms/kmsref.js';

describe('parseKmsRef', () => {
  it('reads a Vault transit key name from hashivault:// and its openbao:// alias', () => {
    assert.deepEqual(parseKmsRef('hashivault://chains-key'), {
      provider: 'hashivault',
      ref: 'hashivault://chains-key',
      keyName: 'chains-key',
    });
    assert.deepEqual(parseKmsRef('openbao://team.key_1'), {
      provider: 'hashivault',
      ref: 'openbao://team.key_1',
      keyName: 'team.key_1',
    });
  });

  it('rejects the three-slash hashivault:///KEY spelling that sigstore rejects too', () => {
    assert.throws(
      () => parseKmsRef('hashivault:///chains-key'),
      (e: unknown) => e instanceof ChainsmithError && e.reason === 'InvalidConfig',
    );
    assert.throws(() => parseKmsRef('hashivault://a/b'), /hashivault:\/\/KEY-NAME/);
  });

  it('reads AWS key ids, aliases and ARNs, with and without an endpoint host', () => {
    assert.deepEqual(parseKmsRef('awskms:///1234abcd-12ab-34cd-56ef-1234567890ab'), {
      provider: 'awskms',
      ref: 'awskms:///1234abcd-12ab-34cd-56ef-1234567890ab',
      keyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
    });
    assert.deepEqual(parseKmsRef('awskms://kms.internal:4443/alias/chains'), {
      provider: 'awskms',
      ref: 'awskms://kms.internal:4443/alias/chains',
      endpoint: 'kms.internal:4443',
      keyId: 'alias/chains',
    });
    const arn = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    assert.equal((parseKmsRef(`awskms:///${arn}`) as { keyId: string }).keyId, arn);
    assert.equal(
      (parseKmsRef('awskms:///arn:aws:kms:us-east-1:123456789012:alias/x') as { keyId: string }).keyId,
      'arn:aws:kms:us-east-1:123456789012:alias/x',
    );
  });

  it('rejects AWS references that are not a key id, alias or ARN', () => {
    assert.throws(() => parseKmsRef('awskms:///not-a-key'), /awskms/);
    assert.throws(() => parseKmsRef('awskms://alias/foo'), /awskms/);
  });

  it('reads GCP key paths with cryptoKeyVersions, versions, or no version', () => {
    const key = 'projects/p/locations/global/keyRings/r/cryptoKeys/k';
    assert.deepEqual(parseKmsRef(`gcpkms://${key}/cryptoKeyVersions/3`), {
      provider: 'gcpkms',
      ref: `gcpkms://${key}/cryptoKeyVersions/3`,
      cryptoKey: key,
      version: '3',
    });
    assert.equal((parseKmsRef(`gcpkms://${key}/versions/7`) as { version?: string }).version, '7');
    assert.deepEqual(parseKmsRef(`gcpkms://${key}`), { provider: 'gcpkms', ref: `gcpkms://${key}`, cryptoKey: key });
    assert.throws(() => parseKmsRef('gcpkms://projects/p/keyRings/r'), /gcpkms/);
  });

  it('turns an Azure vault host into its https URL and keeps an optional key version', () => {
    assert.deepEqual(parseKmsRef('azurekms://myvault.vault.azure.net/signing'), {
      provider: 'azurekms',
      ref: 'azurekms://myvault.vault.azure.net/signing',
      vaultUrl: 'https://myvault.vault.azure.net/',
      keyName: 'signing',
    });
    assert.equal(
      (parseKmsRef('azurekms://myvault.vault.azure.net/signing/0a1b') as { version?: string }).version,
      '0a1b',
    );
  });

  it('names the accepted schemes for an unknown one', () => {
    assert.throws(
      () => parseKmsRef('k8s://tekton-chains/signing-secrets'),
      (e: unknown) => {
        assert.ok(e instanceof ChainsmithError);
        assert.equal(e.reason, 'InvalidConfig');
        assert.match(e.message, /hashivault:\/\/, openbao:\/\/, awskms:\/\/, gcpkms:\/\/, azurekms:\/\//);
        return true;
      },
    );
  });
});
