// Paths and contents of the key fixtures made by test/fixtures/keys/generate.sh (real cosign, openssl, ssh-keygen).
import { readFileSync } from 'node:fs';
import { createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { DEFAULT_CONFIG } from '../../src/config/parse.js';
import type { ChainsConfig } from '../../src/config/types.js';
import type { Signer } from '../../src/signing/signer.js';

export const KEYS_DIR = fileURLToPath(new URL('../fixtures/keys/', import.meta.url));

/** x509.pem fixtures (openssl genpkey) */
export const X509_FIXTURES = [
  'x509-ecdsa-p256',
  'x509-ecdsa-p384',
  'x509-ecdsa-p521',
  'x509-ed25519',
  'x509-rsa',
] as const;
/** cosign.key fixtures (cosign generate-key-pair / import-key-pair, one re-labelled) */
export const COSIGN_FIXTURES = [
  'cosign-ecdsa-p256',
  'cosign-legacy-label',
  'cosign-ecdsa-p384',
  'cosign-ecdsa-p521',
  'cosign-ed25519',
  'cosign-rsa',
] as const;

export function fixtureDir(name: string): string {
  return join(KEYS_DIR, name);
}

export function fixtureFile(name: string, file: string): Buffer {
  return readFileSync(join(KEYS_DIR, name, file));
}

export function fixturePublicKey(name: string): KeyObject {
  return createPublicKey(fixtureFile(name, 'cosign.pub'));
}

/** fixture name → OpenSSH SHA256 fingerprint computed by ssh-keygen */
export function expectedKeyIds(): Record<string, string> {
  return JSON.parse(readFileSync(join(KEYS_DIR, 'expected-keyids.json'), 'utf8')) as Record<string, string>;
}

/** A complete chains-config with Chains' defaults, for code that only reads the signer keys. */
export function testConfig(overrides: { fulcioEnabled?: boolean; kmsref?: string } = {}): ChainsConfig {
  const config = structuredClone(DEFAULT_CONFIG);
  config.signers.x509.fulcioEnabled = overrides.fulcioEnabled ?? false;
  if (overrides.kmsref !== undefined) config.signers.kms.kmsref = overrides.kmsref;
  // These tests never retry; a zero horizon keeps any retry bookkeeping out of their way.
  config.chainsmith.retryHorizonSeconds = 0;
  return config;
}

/** A fresh in-memory P-256 signer (no key files), for pipeline tests. */
export function ephemeralSigner(): Signer {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    sign: async (d: Buffer) => sign('sha256', d, privateKey),
    publicKey: () => publicKey,
    cert: () => '',
    chain: () => '',
    description: 'test',
  };
}
