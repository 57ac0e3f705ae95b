// The `--key FILE | --kms REF` flags of the commands that verify with a public key (`verify`, `verify-run`).
import type { KeyObject } from 'node:crypto';
import { kmsPublicKey, readPublicKeyFile } from '../verify/key.js';
import { CliError } from './errors.js';

/** The parseFlags options of the public key (spread them into a command's own options). */
export const PUBLIC_KEY_FLAGS = {
  key: { type: 'string' },
  kms: { type: 'string' },
} as const;

interface PublicKeyValues {
  key?: string;
  kms?: string;
}

/** Rejects anything but exactly one of --key and --kms. */
export function checkPublicKeyFlags(values: PublicKeyValues): void {
  if ((values.key === undefined) === (values.kms === undefined))
    throw new CliError('give exactly one of --key FILE or --kms REF');
}

/** The key of --key (a PEM public key or certificate) or of --kms (read from the KMS); checked by the caller. */
export function readPublicKeyFlag(values: PublicKeyValues): Promise<KeyObject> {
  return values.key !== undefined ? readPublicKeyFile(values.key) : kmsPublicKey(values.kms!);
}
