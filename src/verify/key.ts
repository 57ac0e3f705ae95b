// The public key a verification uses: a PEM file (`cosign.pub`, an SPKI `PUBLIC KEY`, or a certificate), or the
// public key of a KMS key read through the same provider code that signs with it (src/signing/kms).
import { createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { DEFAULT_CONFIG } from '../config/parse.js';
import type { ChainsConfig } from '../config/types.js';
import { ChainsmithError, messageOf } from '../errors.js';

/** Parses PEM text holding a public key or an X.509 certificate. */
export function parsePublicKeyPem(pem: string): KeyObject {
  if (pem.includes('BEGIN CERTIFICATE')) return new X509Certificate(pem).publicKey;
  const key = createPublicKey(pem);
  if (key.type !== 'public') throw new Error('not a public key');
  return key;
}

/** Reads `--key FILE`; throws ChainsmithError 'KeyNotFound' / 'KeyUnsupported' with a one-line message. */
export async function readPublicKeyFile(path: string): Promise<KeyObject> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ChainsmithError('KeyNotFound', `cannot read public key ${path}: ${messageOf(err)}`);
  }
  try {
    return parsePublicKeyPem(text);
  } catch (err) {
    throw new ChainsmithError('KeyUnsupported', `${path} is not a PEM public key or certificate (${messageOf(err)})`);
  }
}

/** The public key of `--kms REF`, read from the KMS (Vault address/token etc. come from the usual environment). */
export async function kmsPublicKey(kmsref: string): Promise<KeyObject> {
  const { createKmsSigner } = await import('../signing/kms/index.js');
  const cfg: ChainsConfig['signers']['kms'] = { ...DEFAULT_CONFIG.signers.kms, kmsref };
  const signer = await createKmsSigner(cfg);
  return signer.publicKey();
}
