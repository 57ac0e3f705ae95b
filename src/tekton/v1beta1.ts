// Conversion of tekton.dev/v1beta1 run documents to the v1 shape chainsmith reads.
// Chains itself only watches v1 objects (the API server converts); this exists so that users can feed
// old exported YAML/JSON (e.g. `kubectl get taskrun -o yaml` from a v1beta1-era cluster) to the CLI.
//
// Converted (the fields type hinting and provenance read), see also docs/tekton-input.md:
//   TaskRun     status.taskResults            → status.results
//               status.taskRunResults         → status.results   (the Go field name, seen in hand-written files)
//   PipelineRun status.pipelineResults        → status.results
//               status.taskRunResults         → status.results   (only when neither results nor pipelineResults exist)
//               spec.serviceAccountName       → spec.taskRunTemplate.serviceAccountName
//               spec.podTemplate              → spec.taskRunTemplate.podTemplate
//               spec.timeout                  → spec.timeouts.pipeline
//               status.taskRuns (map, pre-childReferences) → status.childReferences (sorted by name)
// Dropped (PipelineResources no longer exist in v1): spec.resources, status.resourcesResult,
//   status.pipelineResourceResults, status.taskSpec.resources, status.pipelineSpec.resources.
// Everything else passes through unchanged; apiVersion becomes tekton.dev/v1.

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Moves `from[key]` to `to[newKey]` unless the target already has a value; the old key is always removed. */
function move(from: Obj, key: string, to: Obj, newKey: string): void {
  if (!(key in from)) return;
  if (to[newKey] === undefined) to[newKey] = from[key];
  delete from[key];
}

/**
 * Returns a v1-shaped copy of a v1beta1 TaskRun or PipelineRun document (the input is not modified).
 * `kind` must already be known to be `TaskRun` or `PipelineRun`.
 */
export function convertV1beta1(doc: Obj, kind: 'TaskRun' | 'PipelineRun'): Obj {
  const out = structuredClone(doc);
  out.apiVersion = 'tekton.dev/v1';
  const spec = isObj(out.spec) ? out.spec : undefined;
  const status = isObj(out.status) ? out.status : undefined;
  if (spec) delete spec.resources;
  if (status) {
    delete status.resourcesResult;
    delete status.pipelineResourceResults;
    for (const key of ['taskSpec', 'pipelineSpec']) {
      const embedded = status[key];
      if (isObj(embedded)) delete embedded.resources;
    }
  }
  if (kind === 'TaskRun') {
    if (status) {
      move(status, 'taskResults', status, 'results');
      move(status, 'taskRunResults', status, 'results');
    }
    return out;
  }
  if (spec) {
    if ('serviceAccountName' in spec || 'podTemplate' in spec) {
      const template = isObj(spec.taskRunTemplate) ? spec.taskRunTemplate : {};
      move(spec, 'serviceAccountName', template, 'serviceAccountName');
      move(spec, 'podTemplate', template, 'podTemplate');
      spec.taskRunTemplate = template;
    }
    if ('timeout' in spec) {
      const timeouts = isObj(spec.timeouts) ? spec.timeouts : {};
      move(spec, 'timeout', timeouts, 'pipeline');
      spec.timeouts = timeouts;
    }
  }
  if (status) {
    move(status, 'pipelineResults', status, 'results');
    move(status, 'taskRunResults', status, 'results');
    if (isObj(status.taskRuns)) {
      if (status.childReferences === undefined) {
        status.childReferences = Object.keys(status.taskRuns)
          .sort()
          .map((name) => {
            const entry = (status.taskRuns as Obj)[name];
            const pipelineTaskName =
              isObj(entry) && typeof entry.pipelineTaskName === 'string' ? entry.pipelineTaskName : undefined;
            return {
              apiVersion: 'tekton.dev/v1',
              kind: 'TaskRun',
              name,
              ...(pipelineTaskName ? { pipelineTaskName } : {}),
            };
          });
      }
      delete status.taskRuns;
    }
  }
  return out;
}
