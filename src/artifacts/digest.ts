// Digest validation exactly as Chains' `ParseDigest` (spec §2.5) and go-containerregistry's image digests.
import { goTrimSpace } from './go-strings.js';

export { imageDigestProblem, isImageDigest } from '../reference/reference.js';

const HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128, sha1: 40 };

/** The algorithms `parseDigest` accepts, with their hex lengths. */
export const DIGEST_ALGORITHMS = Object.freeze({ ...HEX_LENGTH });

/** Why a digest string is not valid per §2.5, or undefined when it is. One short clause, for findings. */
export function digestProblem(s: string): string | undefined {
  const parts = s.split(':');
  if (parts.length !== 2) return `"${s}" is not in the form <algorithm>:<hex>`;
  const algorithm = goTrimSpace(parts[0]!).toLowerCase();
  const hex = goTrimSpace(parts[1]!);
  const length = Object.hasOwn(HEX_LENGTH, algorithm) ? HEX_LENGTH[algorithm] : undefined;
  if (length === undefined)
    return `unsupported digest algorithm "${goTrimSpace(parts[0]!)}" (accepted: sha256, sha384, sha512, sha1)`;
  if (hex.length !== length) return `${algorithm} digest must have ${length} hex characters, got ${hex.length}`;
  if (!/^[a-f0-9]+$/.test(hex)) return `${algorithm} digest must be lowercase hex (0-9, a-f)`;
  return undefined;
}

/**
 * Chains' `ParseDigest`: splits on `:` (exactly two parts); the algorithm is trimmed and lowercased and must be
 * sha256/sha384/sha512 (64/96/128 lowercase hex) or sha1 (40); the hex is trimmed. Undefined when invalid.
 */
export function parseDigest(s: string): { algorithm: string; hex: string } | undefined {
  if (digestProblem(s) !== undefined) return undefined;
  const [alg, hex] = s.split(':') as [string, string];
  return { algorithm: goTrimSpace(alg).toLowerCase(), hex: goTrimSpace(hex) };
}
