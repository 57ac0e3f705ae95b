// The x509 signer's key files in the mounted `signing-secrets` Secret (chains-behaviour.md §5.2):
// x509.pem first, else cosign.key decrypted with cosign.password.
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ChainsmithError } from '../errors.js';
import { decryptCosignKey, firstPemBlock } from './cosign-key.js';
import { PrivateKeySigner } from './key-signer.js';
import type { Signer } from './signer.js';

/** File names inside the secrets directory, as Chains and `cosign generate-key-pair k8s://` name them. */
export const KEY_FILES = ['x509.pem', 'cosign.key', 'cosign.password'] as const;

// Unencrypted private key PEM types accepted in x509.pem. Chains takes only PKCS#8 `PRIVATE KEY`; SEC1 and PKCS#1
// are what `openssl ecparam -genkey` / older `openssl genrsa` write, so accepting them saves a confusing failure.
const PLAIN_KEY_TYPES: Record<string, 'pkcs8' | 'sec1' | 'pkcs1'> = {
  'PRIVATE KEY': 'pkcs8',
  'EC PRIVATE KEY': 'sec1',
  'RSA PRIVATE KEY': 'pkcs1',
};

/** Loads the file signer from `dir`: x509.pem if present, else cosign.key + cosign.password. */
export async function loadFileSigner(dir: string): Promise<Signer> {
  return signerFromKeyMaterial(
    {
      'x509.pem': await readIfPresent(join(dir, 'x509.pem')),
      'cosign.key': await readIfPresent(join(dir, 'cosign.key')),
      'cosign.password': await readIfPresent(join(dir, 'cosign.password')),
    },
    dir,
  );
}

/**
 * The signer from `signing-secrets`-shaped key material (files of the mounted Secret, or the data of a Secret read
 * through the API for a SigningPolicy): x509.pem first, else cosign.key decrypted with cosign.password. `where`
 * names the source in messages.
 */
export async function signerFromKeyMaterial(
  files: Partial<Record<(typeof KEY_FILES)[number], Buffer | undefined>>,
  where: string,
): Promise<Signer> {
  const x509 = files['x509.pem'];
  if (x509 !== undefined) return PrivateKeySigner.fromKey(parseX509Pem(x509), 'x509.pem');

  const cosignKey = files['cosign.key'];
  if (cosignKey !== undefined) {
    const password = files['cosign.password'];
    if (password === undefined) {
      throw new ChainsmithError('KeyNotFound', `cosign.key found in ${where} but cosign.password is missing`);
    }
    // Used verbatim, as Chains and cosign do: a trailing newline is part of the password.
    return PrivateKeySigner.fromKey(await decryptCosignKey(cosignKey, password), 'cosign.key');
  }
  throw new ChainsmithError(
    'KeyNotFound',
    `no valid private key found in ${where}, looked for: [x509.pem, cosign.key]`,
  );
}

/** Parses an unencrypted private key PEM (x509.pem). */
export function parseX509Pem(pem: Buffer): KeyObject {
  const block = firstPemBlock(pem.toString('utf8'));
  if (!block) throw new ChainsmithError('KeyUnsupported', 'x509.pem: no PEM block found');
  if (block.label === 'ENCRYPTED PRIVATE KEY') {
    throw new ChainsmithError(
      'KeyUnsupported',
      'x509.pem: the key is encrypted; x509.pem must be an unencrypted private key',
    );
  }
  const type = PLAIN_KEY_TYPES[block.label];
  if (!type) {
    throw new ChainsmithError('KeyUnsupported', `x509.pem: expected a PRIVATE KEY PEM block, found "${block.label}"`);
  }
  try {
    return createPrivateKey({ key: block.der, format: 'der', type });
  } catch (err) {
    // Node's parse errors name only the ASN.1 problem, never the key bytes.
    throw new ChainsmithError('KeyUnsupported', `x509.pem: cannot parse ${block.label}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

async function readIfPresent(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new ChainsmithError('KeyNotFound', `cannot read ${path}: ${code ?? (err as Error).message}`, { cause: err });
  }
}
