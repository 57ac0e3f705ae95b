// `signers.kms.kmsref` URIs, parsed the way sigstore's KMS providers accept them (cosign-format.md §5),
// so a reference that works with `cosign sign --key <ref>` works here and one that cosign rejects is rejected.
import { ChainsmithError } from '../../errors.js';

/** A parsed KMS key reference: which provider, and what that provider needs to find the key. */
export type KmsRef =
  | { provider: 'hashivault'; ref: string; keyName: string }
  | { provider: 'awskms'; ref: string; endpoint?: string; keyId: string }
  | { provider: 'gcpkms'; ref: string; cryptoKey: string; version?: string }
  | { provider: 'azurekms'; ref: string; vaultUrl: string; keyName: string; version?: string };

export const KMS_SCHEMES = ['hashivault://', 'openbao://', 'awskms://', 'gcpkms://', 'azurekms://'] as const;

// sigstore hashivault: a bare key name, word characters with inner '-' and '.', exactly two slashes.
const HASHIVAULT = /^(?:hashivault|openbao):\/\/(\w(?:[\w.-]*\w)?)$/;
// sigstore awskms: optional host[:port], then a key id (UUID), an alias or an ARN.
const AWS_UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
const AWS_ALIAS = 'alias/[\\w/_-]+';
const AWS_ARN =
  'arn:(?:aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b):kms:[\\w-]+:\\d{12}:(?:key/' + AWS_UUID + '|' + AWS_ALIAS + ')';
const AWSKMS = new RegExp(`^awskms://([^/]*)/(${AWS_UUID}|${AWS_ALIAS}|${AWS_ARN})$`);
// gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K, optionally /cryptoKeyVersions/V (or /versions/V).
const GCPKMS = new RegExp(
  [
    '^gcpkms://',
    '(projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+)',
    '(?:/(?:cryptoKeyVersions|versions)/([^/]+))?',
    '$',
  ].join(''),
);
const AZUREKMS = /^azurekms:\/\/([^/]+)\/([^/]+)(?:\/([^/]+))?$/;
const HOST = /^[A-Za-z0-9.-]+(?::\d{1,5})?$/;

/** Parses a kmsref; InvalidConfig (naming the accepted forms) when it matches no provider. */
export function parseKmsRef(ref: string): KmsRef {
  const trimmed = ref.trim();
  const scheme = KMS_SCHEMES.find((s) => trimmed.startsWith(s));
  if (!scheme) {
    throw invalid(ref, `unknown scheme (accepted: ${KMS_SCHEMES.join(', ')})`);
  }
  switch (scheme) {
    case 'hashivault://':
    case 'openbao://': {
      const m = HASHIVAULT.exec(trimmed);
      if (!m) throw invalid(ref, 'expected hashivault://KEY-NAME (a bare transit key name, two slashes)');
      return { provider: 'hashivault', ref: trimmed, keyName: m[1]! };
    }
    case 'awskms://': {
      const m = AWSKMS.exec(trimmed);
      if (!m || (m[1] !== '' && !HOST.test(m[1]!))) {
        throw invalid(ref, 'expected awskms://[HOST[:PORT]]/KEY-ID, awskms:///alias/NAME or awskms:///arn:aws:kms:…');
      }
      return { provider: 'awskms', ref: trimmed, keyId: m[2]!, ...(m[1] ? { endpoint: m[1] } : {}) };
    }
    case 'gcpkms://': {
      const m = GCPKMS.exec(trimmed);
      if (!m) {
        throw invalid(ref, 'expected gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K[/cryptoKeyVersions/V]');
      }
      return { provider: 'gcpkms', ref: trimmed, cryptoKey: m[1]!, ...(m[2] ? { version: m[2] } : {}) };
    }
    case 'azurekms://': {
      const m = AZUREKMS.exec(trimmed);
      if (!m || !HOST.test(m[1]!)) throw invalid(ref, 'expected azurekms://VAULT-HOST/KEY[/VERSION]');
      return {
        provider: 'azurekms',
        ref: trimmed,
        vaultUrl: `https://${m[1]}/`,
        keyName: m[2]!,
        ...(m[3] ? { version: m[3] } : {}),
      };
    }
  }
}

function invalid(ref: string, why: string): ChainsmithError {
  return new ChainsmithError('InvalidConfig', `signers.kms.kmsref "${ref}" is not a valid KMS reference: ${why}`);
}
