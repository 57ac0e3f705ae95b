// The output of type hinting: what a run built (subjects), what it consumed (materials),
// and why each rejected candidate was rejected (findings).
import type { RunFormat } from '../config/types.js';
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

/** The result of type hinting for one input (artifacts/index.ts `extractArtifacts`). */
export interface ExtractedArtifacts {
  subjects: Subject[];
  /** in-toto v0.2-style materials (uri + digest); v1.0 formats name and de-duplicate them in formats/ */
  materials: Material[];
  /** images to sign with simplesigning: TaskRuns only (Chains never signs images named by PipelineRun results) */
  images: ImageReference[];
  findings: Finding[];
}

/**
 * One extraction, made once per run by the signing pipeline and handed to the formats with the run, so that the
 * findings, the format's subjects and the images to sign all come from the same pass. It is used only by a format
 * and inspection depth equal to the ones it was made for.
 */
export interface Extraction {
  format: RunFormat;
  deepInspection: boolean;
  artifacts: ExtractedArtifacts;
}

/** One signable input handed along the path: a run (with its children) or an image found in its results. */
export type FormatInput =
  | { kind: 'TaskRun'; run: TaskRun; extraction?: Extraction }
  | { kind: 'PipelineRun'; run: PipelineRunWithChildren; extraction?: Extraction }
  | { kind: 'Image'; image: ImageReference };
