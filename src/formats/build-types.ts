// The two `builddefinition.buildtype` values Chains accepts (spec §3.6); they only affect the SLSA v1.0 formats.
import type { BuildType } from '../config/types.js';

/** Default: generic SLSA consumers; child TaskRuns appear by source (uri + digest) only. */
export const SLSA_BUILD_TYPE: BuildType = 'https://tekton.dev/chains/v2/slsa';
/** Tekton-aware consumers: adds labels/annotations and every child TaskRun's JSON. */
export const TEKTON_BUILD_TYPE: BuildType = 'https://tekton.dev/chains/v2/slsa-tekton';
/** Both accepted values, default first. */
export const BUILD_TYPES: readonly BuildType[] = [SLSA_BUILD_TYPE, TEKTON_BUILD_TYPE];
