// Accessors: done / succeeded, results, executed children, grouping a file's runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  executedChildTaskRuns,
  isDone,
  isSucceeded,
  objectValue,
  resultByName,
  results,
  runKindOf,
  stepResults,
  stringValue,
} from '../../src/tekton/accessors.js';
import { groupRuns } from '../../src/tekton/collect.js';
import type { Condition, PipelineRun, TaskRun } from '../../src/tekton/types.js';

function tr(name: string, extra: Partial<TaskRun> = {}, conditions?: Condition[]): TaskRun {
  return {
    apiVersion: 'tekton.dev/v1',
    kind: 'TaskRun',
    metadata: { name },
    spec: {},
    ...extra,
    status: { ...(conditions ? { conditions } : {}), ...extra.status },
  };
}

test('done = Succeeded condition present and not Unknown; succeeded = True', () => {
  const cases: Array<[Condition[] | undefined, boolean, boolean]> = [
    [undefined, false, false],
    [[], false, false],
    [[{ type: 'Succeeded', status: 'Unknown', reason: 'Running' }], false, false],
    [[{ type: 'Succeeded', status: 'True' }], true, true],
    [[{ type: 'Succeeded', status: 'False', reason: 'Failed' }], true, false],
    [[{ type: 'Succeeded', status: 'False', reason: 'TaskRunCancelled' }], true, false],
    [[{ type: 'Ready', status: 'True' }], false, false],
    [
      [
        { type: 'Ready', status: 'True' },
        { type: 'Succeeded', status: 'True' },
      ],
      true,
      true,
    ],
  ];
  for (const [conditions, done, ok] of cases) {
    const run = tr('x', {}, conditions);
    assert.equal(isDone(run), done, JSON.stringify(conditions));
    assert.equal(isSucceeded(run), ok, JSON.stringify(conditions));
  }
  assert.equal(
    isDone({ apiVersion: 'tekton.dev/v1', kind: 'TaskRun', metadata: {}, spec: {} }),
    false,
    'no status at all',
  );
});

test('results, resultByName, stepResults, kind', () => {
  const run = tr('x', {
    status: {
      results: [
        { name: 'a', value: '1' },
        { name: 'b', value: ['x'] },
      ],
      steps: [
        { name: 's1', results: [{ name: 'sr', value: 'v' }] },
        { name: 's2' },
        { name: 's3', results: [{ name: 'sr2', value: { k: 'v' } }] },
      ],
    },
  });
  assert.deepEqual(
    results(run).map((r) => r.name),
    ['a', 'b'],
  );
  assert.deepEqual(resultByName(run, 'b'), { name: 'b', value: ['x'] });
  assert.equal(resultByName(run, 'A'), undefined, 'names are case-sensitive');
  assert.deepEqual(
    stepResults(run).map((r) => r.name),
    ['sr', 'sr2'],
  );
  assert.equal(runKindOf(run), 'TaskRun');
  assert.deepEqual(results(tr('empty')), []);
});

test("stringValue / objectValue read ParamValues like Go's StringVal / ObjectVal", () => {
  assert.equal(stringValue('s'), 's');
  assert.equal(stringValue(['s']), '');
  assert.equal(stringValue(undefined), '');
  assert.deepEqual(objectValue({ a: 'b' }), { a: 'b' });
  assert.equal(objectValue(['a']), undefined);
  assert.equal(objectValue('a'), undefined);
});

function pr(name: string, tasks: string[], finallyTasks: string[] = [], childRefs: string[] = []): PipelineRun {
  return {
    apiVersion: 'tekton.dev/v1',
    kind: 'PipelineRun',
    metadata: { name },
    spec: {},
    status: {
      pipelineSpec: { tasks: tasks.map((name) => ({ name })), finally: finallyTasks.map((name) => ({ name })) },
      childReferences: childRefs.map((name) => ({ name, kind: 'TaskRun' })),
    },
  };
}

function child(name: string, task: string, completed = true, pipelineRun?: string): TaskRun {
  return {
    apiVersion: 'tekton.dev/v1',
    kind: 'TaskRun',
    metadata: {
      name,
      labels: { 'tekton.dev/pipelineTask': task, ...(pipelineRun ? { 'tekton.dev/pipelineRun': pipelineRun } : {}) },
    },
    spec: {},
    status: completed ? { completionTime: '2026-01-01T00:00:00Z' } : {},
  };
}

test('executed children: tasks then finally in spec order, child-list order within a task, completed only', () => {
  const run = pr('p', ['build', 'test'], ['notify']);
  const children = [
    child('n', 'notify'),
    child('t', 'test'),
    child('b2', 'build'),
    child('b1', 'build'),
    child('x', 'build', false),
    child('o', 'other'),
  ];
  assert.deepEqual(
    executedChildTaskRuns({ run, children }).map((c) => c.metadata.name),
    ['b2', 'b1', 't', 'n'],
  );
  const noSpec = { ...run, status: {} };
  assert.deepEqual(executedChildTaskRuns({ run: noSpec, children }), []);
});

test('groupRuns attaches children by childReferences order, then by label; others stay TaskRuns', () => {
  const p = pr('p', ['a', 'b'], [], ['p-b', 'p-a']);
  const runs = [child('p-a', 'a'), p, child('lonely', 'z'), child('p-c', 'c', true, 'p'), child('p-b', 'b')];
  const { pipelineRuns, taskRuns } = groupRuns(runs);
  assert.deepEqual(
    pipelineRuns.map((g) => g.children.map((c) => c.metadata.name)),
    [['p-b', 'p-a', 'p-c']],
  );
  assert.deepEqual(
    taskRuns.map((t) => t.metadata.name),
    ['lonely'],
  );
});
