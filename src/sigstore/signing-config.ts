// A sigstore `SigningConfig` (protobuf-specs `dev.sigstore.trustroot.v1.SigningConfig`, media type
// `application/vnd.dev.sigstore.signingconfig.v0.2+json`): which transparency log and timestamp authority to use, as
// cosign v3 and sigstore-go read it. From @sigstore/protobuf-specs: the message and its JSON decoding. Hand-written:
// the service selection rules of the spec (valid now, a supported API version, the highest one first, then the
// selector), because @sigstore/sign applies them only inside its own bundle builder.
import { ServiceSelector, SigningConfig, type Service, type ServiceConfiguration } from '@sigstore/protobuf-specs';
import { ChainsmithError, messageOf } from '../errors.js';

export const SIGNING_CONFIG_MEDIA_TYPE = 'application/vnd.dev.sigstore.signingconfig.v0.2+json';
/** Rekor API versions chainsmith writes to. */
export const REKOR_API_VERSIONS = [1, 2] as const;
/** Timestamp authority API versions chainsmith speaks. */
export const TSA_API_VERSIONS = [1] as const;

/** A selected service. */
export interface SelectedService {
  url: string;
  majorApiVersion: number;
}

/** What a signing config selects for chainsmith: one transparency log and, if any, one timestamp authority. */
export interface SigningServices {
  rekor?: SelectedService;
  tsa?: SelectedService;
}

/** Parses a signing config and selects its services at `now`; InvalidConfig naming `source` when it cannot. */
export function signingServices(json: Buffer | string, source: string, now = new Date()): SigningServices {
  let config: SigningConfig;
  try {
    config = SigningConfig.fromJSON(JSON.parse(json.toString()));
  } catch (err) {
    throw invalid(source, err instanceof SyntaxError ? 'not JSON' : messageOf(err));
  }
  if (config.mediaType !== SIGNING_CONFIG_MEDIA_TYPE)
    throw invalid(source, `mediaType is ${JSON.stringify(config.mediaType)}, expected ${SIGNING_CONFIG_MEDIA_TYPE}`);
  const rekor = select(config.rekorTlogUrls, config.rekorTlogConfig, REKOR_API_VERSIONS, now, source, 'rekorTlog');
  const tsa = select(config.tsaUrls, config.tsaConfig, TSA_API_VERSIONS, now, source, 'tsa');
  return { ...(rekor ? { rekor } : {}), ...(tsa ? { tsa } : {}) };
}

/**
 * The one service of `services` to use: those valid at `now` with a supported API version, the highest version
 * first, in file order. `ANY` and `EXACT` with count 1 take the first; `ALL` (or `EXACT` above 1) with more than one
 * candidate is refused, since chainsmith records each signature in one log and one timestamp authority.
 */
function select(
  services: Service[],
  conf: ServiceConfiguration | undefined,
  versions: readonly number[],
  now: Date,
  source: string,
  what: string,
): SelectedService | undefined {
  if (services.length === 0) return undefined;
  const valid = services.filter((s) => versions.includes(s.majorApiVersion) && validAt(s, now));
  if (valid.length === 0)
    throw invalid(
      source,
      `no ${what}Urls service is valid now with a supported API version (${versions.join(', ')}): ` +
        services.map((s) => `${s.url} v${s.majorApiVersion}`).join(', '),
    );
  const top = Math.max(...valid.map((s) => s.majorApiVersion));
  const candidates = valid.filter((s) => s.majorApiVersion === top);
  const selector = conf?.selector ?? ServiceSelector.ANY;
  if (selector === ServiceSelector.SERVICE_SELECTOR_UNDEFINED)
    throw invalid(source, `${what}Config has no selector (ANY, ALL or EXACT)`);
  const wanted =
    selector === ServiceSelector.ALL ? candidates.length : selector === ServiceSelector.EXACT ? (conf?.count ?? 0) : 1;
  if (wanted < 1 || wanted > candidates.length)
    throw invalid(source, `${what}Config asks for ${wanted} services and ${candidates.length} are usable`);
  if (wanted > 1)
    throw invalid(source, `${what}Config asks for ${wanted} services; chainsmith uses one (selector ANY)`);
  const s = candidates[0]!;
  return { url: s.url.replace(/\/+$/, ''), majorApiVersion: s.majorApiVersion };
}

function validAt(s: Service, now: Date): boolean {
  const start = s.validFor?.start;
  const end = s.validFor?.end;
  return (!start || start.getTime() <= now.getTime()) && (!end || now.getTime() < end.getTime());
}

function invalid(source: string, detail: string): ChainsmithError {
  return new ChainsmithError('InvalidConfig', `signing config ${source}: ${detail}`);
}
