// The payload formats, registered by name as Chains registers its payloaders (spec §3).
import { ChainsmithError } from '../errors.js';
import type { OciFormat, RunFormat } from '../config/types.js';
import type { PayloadFormat } from './types.js';
import { inTotoFormat, slsaV1Format } from './in-toto.js';
import { simpleSigningFormat } from './simplesigning.js';
import { cosignSignFormat } from './cosign-sign.js';
import { slsaV2alpha3Format } from './slsa-v2alpha3.js';
import { slsaV2alpha4Format } from './slsa-v2alpha4.js';

export { serialise, toStruct } from './serialise.js';
export { COSIGN_SIGN_PREDICATE, cosignSignStatement } from './cosign-sign.js';
export type { FormatInput, Payload, PayloadFormat } from './types.js';

const REGISTRY: ReadonlyMap<string, PayloadFormat> = new Map(
  [inTotoFormat, slsaV1Format, slsaV2alpha3Format, slsaV2alpha4Format, simpleSigningFormat].map((f) => [f.name, f]),
);

/** Formats chainsmith picks itself, never named in chains-config: `cosign-sign` (image signatures stored as sigstore
 * bundles, see cosign-sign.ts). */
const INTERNAL: ReadonlyMap<string, PayloadFormat> = new Map([[cosignSignFormat.name, cosignSignFormat]]);

/** The image-signature formats: `simplesigning` (Chains' `.sig` layout) or `cosign-sign` (sigstore bundles). */
export type ImageFormat = OciFormat | 'cosign-sign';

/** Every registered format name, in-toto family first. */
export const FORMAT_NAMES: readonly string[] = [...REGISTRY.keys()];

/** The in-toto formats that describe runs (what `artifacts.{taskrun,pipelinerun}.format` accepts). */
export const RUN_FORMATS: readonly RunFormat[] = ['in-toto', 'slsa/v1', 'slsa/v2alpha3', 'slsa/v2alpha4'];

/** True for a name `payloadFormat` knows. */
export function isFormatName(name: string): name is RunFormat | OciFormat {
  return REGISTRY.has(name);
}

/** The format registered under `name`; ChainsmithError 'InvalidConfig' for an unknown name. */
export function payloadFormat(name: RunFormat | ImageFormat): PayloadFormat {
  const f = REGISTRY.get(name) ?? INTERNAL.get(name);
  if (!f)
    throw new ChainsmithError(
      'InvalidConfig',
      `unknown payload format "${name}" (accepted: ${FORMAT_NAMES.join(', ')})`,
    );
  return f;
}
