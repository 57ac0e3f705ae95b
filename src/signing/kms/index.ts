// The KMS signer factory: dispatches `signers.kms.kmsref` to its provider. Provider modules are imported on
// demand so a cluster that signs with Vault never loads the AWS, Google or Azure SDKs.
import type { ChainsConfig } from '../../config/types.js';
import { ChainsmithError } from '../../errors.js';
import type { Signer } from '../signer.js';
import type { KmsCallOptions } from './call.js';
import { parseKmsRef } from './kmsref.js';

export { parseKmsRef, type KmsRef } from './kmsref.js';
export type { KmsCallOptions } from './call.js';

/**
 * Builds the signer for `signers.kms`: parses the reference, creates the provider's client once, and reads the
 * public key from the KMS. Throws ChainsmithError (InvalidConfig, or a Kms* reason) when that fails.
 */
export async function createKmsSigner(cfg: ChainsConfig['signers']['kms'], opts: KmsCallOptions = {}): Promise<Signer> {
  if (!cfg.kmsref) {
    throw new ChainsmithError('InvalidConfig', 'signers.kms.kmsref is not set, but an artifact type uses signer "kms"');
  }
  const ref = parseKmsRef(cfg.kmsref);
  switch (ref.provider) {
    case 'hashivault':
      return (await import('./hashivault.js')).createHashivaultSigner(ref, cfg, opts);
    case 'awskms':
      return (await import('./aws.js')).createAwsKmsSigner(ref, opts);
    case 'gcpkms':
      return (await import('./gcp.js')).createGcpKmsSigner(ref, opts);
    case 'azurekms':
      return (await import('./azure.js')).createAzureKmsSigner(ref, opts);
  }
}
