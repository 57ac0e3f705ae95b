// Hostile run documents — wrong types where lists, objects or strings are expected, in v1 and v1beta1 — through
// `provenance` and `artifacts` in every format: each is exit 2 with one line naming the file and the field,
// never a raw JavaScript error (exit 1) or a stack trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../artifacts/cli-capture.js';

const dir = mkdtempSync(join(tmpdir(), 'chainsmith-hostile-'));
const FORMATS = ['in-toto', 'slsa/v1', 'slsa/v2alpha3', 'slsa/v2alpha4'];
const DONE = [{ type: 'Succeeded', status: 'True' }];
const DIGEST = `sha256:${'b'.repeat(64)}`;

type Json = Record<string, unknown>;

function taskRun(status: Json, extra: Json = {}, apiVersion = 'tekton.dev/v1'): Json {
  const base = { apiVersion, kind: 'TaskRun', metadata: { name: 'hostile' }, spec: {} };
  return { ...base, status: { conditions: DONE, ...status }, ...extra };
}

function pipelineRun(status: Json, extra: Json = {}, apiVersion = 'tekton.dev/v1'): Json {
  const base = { apiVersion, kind: 'PipelineRun', metadata: { name: 'hostile' }, spec: {} };
  return { ...base, status: { conditions: DONE, ...status }, ...extra };
}

const BETA = 'tekton.dev/v1beta1';
const tr = taskRun;
const pr = pipelineRun;
const tasks = (...list: unknown[]) => pipelineRun({ pipelineSpec: { tasks: list } });

/** [what, document, the field the message must name] */
const HOSTILE: Array<[string, unknown, RegExp]> = [
  ['v1beta1 taskResults is a string', tr({ taskResults: 'IMAGE_URL' }, {}, BETA), /status\.taskResults must be a list/],
  ['v1beta1 taskResults holds null', tr({ taskResults: [null] }, {}, BETA), /taskResults\[0\] must be an object/],
  ['v1beta1 taskRunResults is an object', tr({ taskRunResults: { a: 1 } }, {}, BETA), /taskRunResults must be a list/],
  ['v1beta1 pipelineResults is a number', pr({ pipelineResults: 7 }, {}, BETA), /pipelineResults must be a list/],
  ['steps is a string', tr({ steps: 'abc' }), /status\.steps must be a list/],
  ['steps holds null', tr({ steps: [null] }), /status\.steps\[0\] must be an object/],
  ['a step name is a number', tr({ steps: [{ name: 5 }] }), /status\.steps\[0\]\.name must be a string/],
  ['step results is a number', tr({ steps: [{ name: 's', results: 5 }] }), /steps\[0\]\.results must be a list/],
  ['a step provenance is a string', tr({ steps: [{ provenance: 'x' }] }), /steps\[0\]\.provenance must be an object/],
  [
    'a step refSource is a number',
    tr({ steps: [{ name: 's', provenance: { refSource: 5 } }] }),
    /status\.steps\[0\]\.provenance\.refSource must be an object/,
  ],
  ['sidecars is an object', tr({ sidecars: {} }), /status\.sidecars must be a list/],
  ['taskSpec is a number', tr({ taskSpec: 7 }), /status\.taskSpec must be an object/],
  ['taskSpec.steps is a string', tr({ taskSpec: { steps: 'x' } }), /status\.taskSpec\.steps must be a list/],
  ['taskSpec.steps holds null', tr({ taskSpec: { steps: [null] } }), /taskSpec\.steps\[0\] must be an object/],
  ['provenance is a string', tr({ provenance: 'x' }), /status\.provenance must be an object/],
  ['refSource is a list', tr({ provenance: { refSource: [] } }), /status\.provenance\.refSource must be an object/],
  [
    'refSource digest holds a number',
    tr({ provenance: { refSource: { uri: 'git+x', digest: { sha1: 5 } } } }),
    /refSource\.digest\["sha1"\] must be a string/,
  ],
  ['a result value is a number', tr({ results: [{ name: 'IMAGES', value: 5 }] }), /results\[0\]\.value must be a/],
  [
    'a result value is nested',
    tr({ results: [{ name: 'X_ARTIFACT_OUTPUTS', value: { uri: { a: 1 } } }] }),
    /status\.results\[0\]\.value\.uri must be a string/,
  ],
  ['a result is null', tr({ results: [null] }), /status\.results\[0\] must be an object/],
  ['results is a string', tr({ results: 'IMAGE_URL' }), /status\.results must be a list/],
  ['completionTime is a number', tr({ completionTime: 5 }), /status\.completionTime must be a string/],
  ['conditions is a string', { kind: 'TaskRun', status: { conditions: 'done' } }, /status\.conditions must be a list/],
  ['labels is a list', tr({}, { metadata: { name: 'x', labels: [] } }), /metadata\.labels must be a map of strings/],
  ['metadata.uid is a number', tr({}, { metadata: { name: 'x', uid: 1 } }), /metadata\.uid must be a string/],
  ['spec.params is an object', tr({}, { spec: { params: { a: 1 } } }), /spec\.params must be a list/],
  ['spec.taskRef is a string', tr({}, { spec: { taskRef: 'x' } }), /spec\.taskRef must be an object/],
  ['status is a list', { kind: 'TaskRun', metadata: { name: 'x' }, status: [] }, /status must be an object/],
  ['the document is a number', 42, /the document is a number/],
  ['pipelineSpec.tasks is a string', pr({ pipelineSpec: { tasks: 'x' } }), /pipelineSpec\.tasks must be a list/],
  ['pipelineSpec.tasks holds null', tasks(null), /status\.pipelineSpec\.tasks\[0\] must be an object/],
  ['a pipeline task has no name', tasks({}), /status\.pipelineSpec\.tasks\[0\]\.name must be a string/],
  ['pipeline task params is a number', tasks({ name: 't', params: 5 }), /tasks\[0\]\.params must be a list/],
  ['pipeline task matrix is a string', tasks({ name: 't', matrix: 'x' }), /tasks\[0\]\.matrix must be an object/],
  ['matrix include holds a number', tasks({ name: 't', matrix: { include: [5] } }), /include\[0\] must be an object/],
  [
    'pipeline task inline steps hold null',
    tasks({ name: 't', taskSpec: { steps: [null] } }),
    /tasks\[0\]\.taskSpec\.steps\[0\] must be an object/,
  ],
  ['pipelineSpec.finally is an object', pr({ pipelineSpec: { finally: {} } }), /pipelineSpec\.finally must be a list/],
  ['childReferences hold an object without a name', pr({ childReferences: [{}] }), /childReferences\[0\] must be/],
  ['taskRunTemplate is a number', pr({}, { spec: { taskRunTemplate: 5 } }), /spec\.taskRunTemplate must be an object/],
  [
    'v1beta1 serviceAccountName is a list',
    pr({}, { spec: { serviceAccountName: [] } }, BETA),
    /spec\.serviceAccountName must be/,
  ],
];

test('every hostile run document is exit 2 with one line naming the file and the field, in every format', async () => {
  let checked = 0;
  for (const [what, doc, field] of HOSTILE) {
    const file = join(dir, `${what.replace(/\W+/g, '-')}.json`);
    writeFileSync(file, JSON.stringify(doc));
    for (const format of FORMATS) {
      for (const command of ['provenance', 'artifacts']) {
        const r = await runCli([command, '--format', format, file]);
        const label = `${what} (${command} --format ${format})`;
        assert.equal(r.code, 2, `${label}: exit ${r.code}: ${r.stderr}`);
        assert.equal(r.stdout, '', label);
        const lines = r.stderr.trimEnd().split('\n');
        assert.equal(lines.length, 1, `${label}: ${r.stderr}`);
        const named = lines[0]!.startsWith(`chainsmith ${command}: ${file}: `);
        assert.ok(named, `${label}: names the file: ${lines[0]}`);
        assert.match(lines[0]!, field, label);
        checked++;
      }
    }
  }
  assert.equal(checked, HOSTILE.length * FORMATS.length * 2);
});

test('a PipelineRun whose child TaskRun is hostile is refused as well, naming the child document', async () => {
  const metadata = { name: 'child', labels: { 'tekton.dev/pipelineRun': 'hostile' } };
  const child = { ...taskRun({ steps: [null] }), metadata };
  const file = join(dir, 'pipeline-and-child.json');
  const parent = pipelineRun({ childReferences: [{ name: 'child' }] });
  writeFileSync(file, JSON.stringify({ kind: 'List', items: [parent, child] }));
  const r = await runCli(['provenance', '--deep-inspection', file]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /item 2 \(TaskRun child\): status\.steps\[0\] must be an object/);
});

test('a result value above 1.5 MiB is InvalidResult (exit 2), before any payload is built', async () => {
  const file = join(dir, 'big-result.json');
  const value = 'x'.repeat(2 * 1024 * 1024);
  const results = [
    { name: 'IMAGE_URL', value },
    { name: 'IMAGE_DIGEST', value: DIGEST },
  ];
  writeFileSync(file, JSON.stringify(taskRun({ results })));
  for (const command of ['provenance', 'artifacts']) {
    const r = await runCli([command, file]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /status\.results\[0\]\.value \(IMAGE_URL\) is 2 MiB, more than 1\.5 MiB \(the result size/);
  }
});
