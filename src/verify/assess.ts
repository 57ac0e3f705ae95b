// Turns the per-signature verdicts for one image into the chain of links an auditor reads top to bottom:
// digest → signature → attestation → predicate type → builder id. The image passes when every required link
// holds; the first broken one is what the command names. Semantics follow cosign's (cosign-format.md §1.5, §3.1):
// one valid signature is enough, attestations are filtered by type, and every matching one must satisfy the policy.
import type { Check, LayerVerdict } from './checks.js';
import { SLSA_PROVENANCE_V02, SLSA_PROVENANCE_V1 } from './predicate-types.js';

/** What the caller requires. */
export interface VerifyPolicy {
  /** attestation required (true when a predicate type or builder id is asked for, or explicitly) */
  requireAttestation: boolean;
  predicateType?: string;
  builderId?: string;
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

  const goodSigs = signatures.filter((v) => v.authentic);
  links.push({
    name: 'signature',
    required: true,
    status: goodSigs.length > 0 ? 'passed' : 'failed',
    detail:
      signatures.length === 0
        ? 'no signatures found'
        : goodSigs.length > 0
          ? `${goodSigs.length} of ${signatures.length} signature(s) verify and name this image`
          : `none of ${signatures.length} signature(s) is valid: ${firstFailedCheck(signatures)}`,
  });

  const goodAtts = attestations.filter((v) => v.authentic);
  const attRequired = policy.requireAttestation || policy.predicateType !== undefined || policy.builderId !== undefined;
  links.push({
    name: 'attestation',
    required: attRequired,
    status: goodAtts.length > 0 ? 'passed' : attestations.length === 0 && !attRequired ? 'skipped' : 'failed',
    detail:
      attestations.length === 0
        ? 'no attestations found'
        : goodAtts.length > 0
          ? `${goodAtts.length} of ${attestations.length} attestation(s) verify and name this image`
          : `none of ${attestations.length} attestation(s) is valid: ${firstFailedCheck(attestations)}`,
  });

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

function firstFailedCheck(verdicts: LayerVerdict[]): string {
  for (const v of verdicts) {
    const c = v.checks.find((x) => x.status === 'failed');
    if (c) return `${c.name}: ${c.detail}`;
  }
  return 'unknown';
}
