// Turns the per-signature verdicts for one image into the chain of links an auditor reads top to bottom:
// digest → signature → attestation → predicate type → builder id. The image passes when every required link
// holds; the first broken one is what the command names. Semantics follow cosign's (cosign-format.md §1.5, §3.1):
// one valid signature is enough, attestations are filtered by type, and every matching one must satisfy the policy.
import type { Check, LayerVerdict } from './checks.js';
import { SLSA_PROVENANCE_V02, SLSA_PROVENANCE_V1 } from './predicate-types.js';
import type { RekorLogKey } from './tlog.js';
import type { TrustedRootMaterial } from './trusted-root.js';

/** What the caller requires. */
export interface VerifyPolicy {
  /** attestation required (true when a predicate type or builder id is asked for, or explicitly) */
  requireAttestation: boolean;
  predicateType?: string;
  builderId?: string;
  /** when set, every signature and attestation needs a transparency-log entry of this Rekor log (tlog.ts) */
  rekor?: RekorLogKey;
  /**
   * `--trusted-root`: its logs (Rekor v1 and v2) are required for every signature and attestation, and its timestamp
   * authorities check a bundle's RFC 3161 timestamps (trusted-root.ts, bundle-trust.ts)
   */
  trustedRoot?: TrustedRootMaterial;
  /** `--insecure-ignore-tlog` with a trusted root: its logs are not required (its timestamps are still checked) */
  ignoreTlog?: boolean;
}

/** One link of the chain. */
export interface Link extends Check {
  required: boolean;
}

/** The whole answer for one image. */
export interface VerifyReport {
  /** the reference as given */
  image: string;
  /** full repository name, `registry/path` */
  repository: string;
  digest: string;
  verified: boolean;
  /** `<link>: <why>` of the first required link that failed */
  firstFailure?: string;
  links: Link[];
  signatures: LayerVerdict[];
  attestations: LayerVerdict[];
  /** where we looked and what we could not look at */
  notes: string[];
}

/** Builds the report from the verdicts. `resolved` is false when the image itself could not be found. */
export function assessImage(
  target: { image: string; repository: string; digest: string; resolvedDetail: string },
  signatures: LayerVerdict[],
  attestations: LayerVerdict[],
  policy: VerifyPolicy,
  notes: string[] = [],
): VerifyReport {
  const links: Link[] = [{ name: 'digest', status: 'passed', detail: target.resolvedDetail, required: true }];

  links.push(verdictsLink('signature', signatures, true));
  const attRequired = policy.requireAttestation || policy.predicateType !== undefined || policy.builderId !== undefined;
  links.push(verdictsLink('attestation', attestations, attRequired));
  const goodAtts = attestations.filter((v) => v.authentic);

  let considered = goodAtts;
  if (policy.predicateType !== undefined) {
    const want = policy.predicateType;
    considered = goodAtts.filter((v) => v.predicateType === want);
    const found = [...new Set(goodAtts.map((v) => v.predicateType ?? '(none)'))];
    links.push({
      name: 'predicate-type',
      required: true,
      status: considered.length > 0 ? 'passed' : 'failed',
      detail:
        considered.length > 0
          ? `${considered.length} verified attestation(s) of type ${want}`
          : `none of the verified attestations has predicateType ${want}` +
            `${found.length > 0 ? ` (found: ${found.join(', ')})` : ''}`,
    });
  } else if (policy.builderId !== undefined) {
    considered = goodAtts.filter(
      (v) => v.predicateType === SLSA_PROVENANCE_V02 || v.predicateType === SLSA_PROVENANCE_V1,
    );
  }

  if (policy.builderId !== undefined) {
    const want = policy.builderId;
    const wrong = considered.filter((v) => v.builderId !== want);
    links.push({
      name: 'builder-id',
      required: true,
      status: considered.length > 0 && wrong.length === 0 ? 'passed' : 'failed',
      detail:
        considered.length === 0
          ? 'no verified SLSA provenance attestation to read a builder id from'
          : wrong.length === 0
            ? `every verified provenance names builder ${want}`
            : `${wrong.length} of ${considered.length} verified provenance attestation(s) name another builder: ` +
              `${[...new Set(wrong.map((v) => v.builderId ?? '(none)'))].join(', ')} (expected ${want})`,
    });
  }

  const broken = links.find((l) => l.required && l.status !== 'passed');
  const report: VerifyReport = {
    image: target.image,
    repository: target.repository,
    digest: target.digest,
    verified: broken === undefined,
    links,
    signatures,
    attestations,
    notes,
  };
  if (broken) report.firstFailure = `${broken.name}: ${broken.detail}`;
  return report;
}

/**
 * The signature or attestation link: passed when one item is authentic, skipped when none was found and none is
 * required, otherwise failed with the first failed check.
 */
function verdictsLink(name: 'signature' | 'attestation', verdicts: LayerVerdict[], required: boolean): Link {
  const good = verdicts.filter((v) => v.authentic).length;
  return {
    name,
    required,
    status: good > 0 ? 'passed' : verdicts.length === 0 && !required ? 'skipped' : 'failed',
    detail:
      verdicts.length === 0
        ? `no ${name}s found`
        : good > 0
          ? `${good} of ${verdicts.length} ${name}(s) verify and name this image`
          : `none of ${verdicts.length} ${name}(s) is valid: ${firstFailedCheck(verdicts)}`,
  };
}

function firstFailedCheck(verdicts: LayerVerdict[]): string {
  for (const v of verdicts) {
    const c = v.checks.find((x) => x.status === 'failed');
    if (c) return `${c.name}: ${c.detail}`;
  }
  return 'unknown';
}
