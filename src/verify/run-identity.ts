// Binds a signed provenance statement to the run it is stored on, so that a payload and signature copied from
// another run (replay) are not accepted as this run's provenance. What each format records (src/formats/*):
// - SLSA v1.0 (`slsa/v2alpha3`, `slsa/v2alpha4`): `predicate.runDetails.metadata.invocationId` = the run's UID
//   (Chains' spelling; the SLSA spec's `invocationID` is accepted too), and `startedOn`/`finishedOn`.
// - SLSA v0.2 (`in-toto`, `slsa/v1`): `predicate.buildType` = `tekton.dev/v1/<Kind>` and
//   `predicate.metadata.buildStartedOn`/`buildFinishedOn` = the run's start and completion times. Chains never
//   sets `buildInvocationId` (chains-behaviour.md §3.2), so the UID is not signed: the binding is kind + times
//   (a `buildInvocationId`, when some other writer sets one, must be the UID).
// No format records the run's namespace or name; a UID is unique to one object, so the UID binding covers them.
import type { Run } from '../tekton/types.js';
import type { Check, Statement } from './checks.js';
import { SLSA_PROVENANCE_V02, SLSA_PROVENANCE_V1 } from './predicate-types.js';

/** What a statement is compared with: the run being verified. */
export interface RunIdentity {
  kind: string;
  namespace: string;
  name: string;
  uid: string;
  startTime?: string;
  completionTime?: string;
}

/** The identity of a run object. */
export function runIdentity(run: Run): RunIdentity {
  const id: RunIdentity = {
    kind: run.kind,
    namespace: run.metadata.namespace ?? '',
    name: run.metadata.name ?? '',
    uid: run.metadata.uid ?? '',
  };
  if (run.status?.startTime) id.startTime = run.status.startTime;
  if (run.status?.completionTime) id.completionTime = run.status.completionTime;
  return id;
}

// v0.2 buildType of a run: `tekton.dev/v1/TaskRun` (older Chains: `tekton.dev/v1beta1/…`)
const TEKTON_BUILD_TYPE = /^tekton\.dev\/v1(?:beta1)?\/(TaskRun|PipelineRun)$/;

const V02_NO_UID = 'SLSA v0.2 provenance as Chains writes it has no run uid: bound by kind and times';

const passed = (name: string, detail: string): Check => ({ name, status: 'passed', detail });
const failed = (name: string, detail: string): Check => ({ name, status: 'failed', detail });
const skipped = (name: string, detail: string): Check => ({ name, status: 'skipped', detail });

function field(obj: unknown, ...path: string[]): unknown {
  let cur = obj;
  for (const p of path) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

const show = (v: unknown): string =>
  typeof v === 'string' ? `"${v}"` : v === undefined ? '(missing)' : JSON.stringify(v);

function uidCheck(where: string, value: unknown, run: RunIdentity): Check {
  return value === run.uid
    ? passed('run-uid', `${where} is this run's uid ${run.uid}`)
    : failed('run-uid', `${where} is ${show(value)}, but this run's uid is "${run.uid}" (provenance of another run?)`);
}

/** Same instant (the formats re-render Kubernetes times: Go RFC 3339 for v0.2, protobuf time for v1.0). */
function sameTime(signed: unknown, actual: string | undefined): boolean {
  if (signed === undefined || actual === undefined) return signed === undefined && actual === undefined;
  if (typeof signed !== 'string') return false;
  const a = Date.parse(signed);
  return Number.isFinite(a) && a === Date.parse(actual);
}

function timeChecks(
  where: string,
  started: unknown,
  finished: unknown,
  run: RunIdentity,
  names: [string, string],
): Check[] {
  const out: Check[] = [];
  const pairs: Array<[string, unknown, string | undefined, string]> = [
    [names[0], started, run.startTime, 'status.startTime'],
    [names[1], finished, run.completionTime, 'status.completionTime'],
  ];
  for (const [name, signed, actual, runField] of pairs) {
    if (sameTime(signed, actual)) continue;
    out.push(failed('run-times', `${where}.${name} is ${show(signed)}, but this run's ${runField} is ${show(actual)}`));
  }
  if (out.length === 0) {
    out.push(passed('run-times', `${where}.${names[0]}/${names[1]} are this run's start and completion times`));
  }
  return out;
}

/**
 * The checks binding a signed statement to `run`: each failure names the statement field and the run's value.
 * A statement of a type that records no run identity fails: nothing would stop it being replayed.
 */
export function runIdentityChecks(statement: Statement, run: RunIdentity): Check[] {
  const p = statement.predicate;
  if (statement.predicateType === SLSA_PROVENANCE_V1) {
    const meta = field(p, 'runDetails', 'metadata');
    // Chains writes `invocationId`; the SLSA spec spells it `invocationID`
    const slsaSpelling = field(meta, 'invocationId') === undefined && field(meta, 'invocationID') !== undefined;
    const spelled = slsaSpelling ? 'invocationID' : 'invocationId';
    const where = 'predicate.runDetails.metadata';
    return [
      uidCheck(`${where}.${spelled}`, field(meta, spelled), run),
      ...timeChecks(where, field(meta, 'startedOn'), field(meta, 'finishedOn'), run, ['startedOn', 'finishedOn']),
    ];
  }
  if (statement.predicateType === SLSA_PROVENANCE_V02) {
    const checks: Check[] = [];
    const buildType = field(p, 'buildType');
    const kind = typeof buildType === 'string' ? TEKTON_BUILD_TYPE.exec(buildType)?.[1] : undefined;
    if (kind === undefined) {
      checks.push(skipped('run-kind', `predicate.buildType ${show(buildType)} does not record a Tekton run kind`));
    } else {
      checks.push(
        kind === run.kind
          ? passed('run-kind', `predicate.buildType names a ${kind}`)
          : failed('run-kind', `predicate.buildType is "${buildType as string}", but this run is a ${run.kind}`),
      );
    }
    const meta = field(p, 'metadata');
    const invocationId = field(meta, 'buildInvocationId') ?? field(meta, 'buildInvocationID');
    if (invocationId !== undefined) checks.push(uidCheck('predicate.metadata.buildInvocationId', invocationId, run));
    else checks.push(skipped('run-uid', V02_NO_UID));
    const started = field(meta, 'buildStartedOn');
    const finished = field(meta, 'buildFinishedOn');
    if (invocationId === undefined && started === undefined && finished === undefined && kind === undefined) {
      checks.push(failed('run-identity', 'the provenance records no run uid, kind or times: it is bound to no run'));
      return checks;
    }
    checks.push(...timeChecks('predicate.metadata', started, finished, run, ['buildStartedOn', 'buildFinishedOn']));
    return checks;
  }
  return [
    failed(
      'run-identity',
      `predicateType ${show(statement.predicateType)} records no run identity (expected SLSA provenance v0.2 or v1)`,
    ),
  ];
}

/** The first reason the statement is not bound to `run`, or undefined when it is. */
export function runBindingProblem(statement: Statement, run: RunIdentity): string | undefined {
  const bad = runIdentityChecks(statement, run).find((c) => c.status === 'failed');
  return bad ? `${bad.name}: ${bad.detail}` : undefined;
}
