// The output of type hinting: what a run built (subjects), what it consumed (materials),
// and why each rejected candidate was rejected (findings).
import type { PipelineRunWithChildren, TaskRun } from '../tekton/types.js';

/** An in-toto ResourceDescriptor-like subject: `{name, digest: {alg: hex}}`. */
export interface Subject {
  name: string;
  digest: Record<string, string>;
}

/** A material / resolved dependency: `{uri, digest}` (name only in SLSA v1.0 resolvedDependencies). */
export interface Material {
  uri: string;
  digest: Record<string, string>;
  name?: string;
}

/** A fully-qualified OCI image reference found in results: normalised repository + sha256 digest. */
export interface ImageReference {
  /** normalised repository, e.g. `index.docker.io/library/ubuntu` or `127.0.0.1:5000/app` */
  repository: string;
  /** `sha256:<64 hex>` */
  digest: string;
  /** the result(s) the reference came from, for messages */
  source: string;
}

export type FindingReason =
  | 'InvalidDigest'
  | 'InvalidReference'
  | 'UnpairedUrl'
  | 'UnpairedDigest'
  | 'NearMissName'
  | 'InvalidResult'
  | 'NoArtifacts';

/** A candidate result that was not used, and why. Surfaced as Kubernetes Events by the controller. */
export interface Finding {
  reason: FindingReason;
  /** the result name (or names, joined by `+`) the finding is about; `""` for run-level findings */
  result: string;
  message: string;
}

/** One signable input handed along the path: a run (with its children) or an image found in its results. */
export type FormatInput =
  | { kind: 'TaskRun'; run: TaskRun }
  | { kind: 'PipelineRun'; run: PipelineRunWithChildren }
  | { kind: 'Image'; image: ImageReference };
