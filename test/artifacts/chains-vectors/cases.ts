// The differential cases: the run fixtures plus seeded random TaskRuns and PipelineRuns full of type hints,
// valid and broken. `chains-output.json` holds what Tekton Chains' own code extracts from them (see README.md).
// Run as a script to print the cases for the Go side: node --import tsx test/artifacts/chains-vectors/cases.ts
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseRunDocuments } from '../../../src/tekton/read.js';
import type { ParamValue, PipelineRun, Run, RunResult, TaskRun } from '../../../src/tekton/types.js';
import { gen } from '../prng.js';

export interface DiffCase {
  id: string;
  kind: 'TaskRun' | 'PipelineRun';
  run: Run;
  children?: TaskRun[];
}

const FIXTURES = fileURLToPath(new URL('../../fixtures/runs/', import.meta.url));
const load = (p: string) => parseRunDocuments(readFileSync(FIXTURES + p, 'utf8'));

function fixtureCases(): DiffCase[] {
  const out: DiffCase[] = [];
  for (const f of [
    'buildah-taskrun.yaml',
    'ko-taskrun.json',
    'buildah-taskrun-v1beta1.yaml',
    'chains/pipeline-v1/taskrun1.json',
    'chains/pipeline-v1/taskrun2.json',
    'chains/pipeline-v1/taskrun-multiple-subjects.json',
    'chains/slsa-v2alpha4/taskrun1.json',
    'chains/slsa-v2alpha4/taskrun2.json',
    'chains/slsa-v2alpha4/taskrun3.json',
    'chains/slsa-v2alpha4/taskrun4.json',
    'chains/slsa-v2alpha4/taskrun-multiple-subjects.json',
    'chains/slsa-v2alpha3/taskrun1.json',
  ]) {
    out.push({ id: f, kind: 'TaskRun', run: load(f)[0]! });
  }
  const [pr, ...children] = load('pipelinerun-list.yaml');
  out.push({ id: 'pipelinerun-list.yaml', kind: 'PipelineRun', run: pr!, children: children as TaskRun[] });
  const pairs: Array<[string, string, string[]]> = [
    ['pipeline-v1', 'pipelinerun1', ['taskrun1', 'taskrun2']],
    ['pipeline-v1', 'pipelinerun_structured_results', ['taskrun1', 'taskrun2']],
    ['slsa-v2alpha4', 'pipelinerun1', ['taskrun1', 'taskrun2']],
    ['slsa-v2alpha4', 'pipelinerun2', ['taskrun3', 'taskrun4']],
  ];
  for (const [dir, p, cs] of pairs) {
    out.push({
      id: `chains/${dir}/${p}.json`,
      kind: 'PipelineRun',
      run: load(`chains/${dir}/${p}.json`)[0]!,
      children: cs.map((c) => load(`chains/${dir}/${c}.json`)[0] as TaskRun),
    });
  }
  return out;
}

function randomCases(seed: number, taskRuns: number, pipelineRuns: number): DiffCase[] {
  const g = gen(seed);
  const hex = (n: number, i: number) => ((i * 2654435761) >>> 0).toString(16).padStart(8, '0').repeat(16).slice(0, n);
  const sha256 = (i: number) => `sha256:${hex(64, i)}`;
  const maybe = (p: number) => g.rnd() < p;
  const ws = (s: string) =>
    (maybe(0.15) ? g.pick([' ', '\n', '\t', ' \n']) : '') + s + (maybe(0.2) ? g.pick(['\n', ' ', '\r\n']) : '');
  const repos = [
    'gcr.io/a/app',
    'gcr.io/a/app:v1',
    'ubuntu',
    'docker.io/library/ubuntu',
    'docker.io/acme/x',
    'localhost:5000/app',
    'quay.io/o/r:latest',
    'Gcr.io/UP/per',
    'gcr.io/a',
    'abc',
    'registry.example.com/team/app@' + sha256(1),
    '',
  ];
  const digests = () =>
    g.pick([
      sha256(g.int(4)),
      sha256(g.int(4)),
      sha256(g.int(4)).toUpperCase().replace('SHA256', 'sha256'),
      `sha512:${hex(128, 7)}`,
      `sha1:${hex(40, 3)}`,
      `SHA256:${hex(64, 2)}`,
      `sha384:${hex(96, 5)}`,
      'sha256:',
      'abc',
      '',
    ]);
  const value = (s: string): ParamValue => (maybe(0.04) ? [s] : maybe(0.03) ? { v: s } : s);
  const obj = () => {
    const o: Record<string, string> = {};
    if (maybe(0.9)) o.uri = g.pick(['gcr.io/a/app', 'abc', 'pkg:maven/g/a@1', 'https://github.com/o/r', '', 'ubuntu']);
    if (maybe(0.9)) o.digest = ws(digests());
    if (maybe(0.6)) o.isBuildArtifact = g.pick(['true', 'true', 'false', 'True', '']);
    if (maybe(0.05)) o.URI = 'gcr.io/x/y';
    return o;
  };
  const results = (n: number): RunResult[] => {
    const out: RunResult[] = [];
    const names = new Set<string>();
    const push = (name: string, v: ParamValue) => {
      if (names.has(name)) return;
      names.add(name);
      out.push({ name, value: v });
    };
    for (let i = 0; i < n; i++) {
      const m = g.pick(['', 'a-', 'b_', 'SPAM_', 'img1_', 'x']);
      switch (g.int(9)) {
        case 0:
        case 1:
          push(`${m}IMAGE_URL`, value(ws(g.pick(repos))));
          if (maybe(0.8)) push(`${m}IMAGE_DIGEST`, value(ws(digests())));
          break;
        case 2:
          push(`${m}IMAGE_DIGEST`, value(ws(digests())));
          break;
        case 3:
          push(
            'IMAGES',
            value(
              Array.from({ length: 1 + g.int(3) }, () => `${g.pick(repos)}@${digests()}`).join(
                g.pick([',', '\n', ', ', ',\n', '\n\n']),
              ),
            ),
          );
          break;
        case 4:
          push(`${m}ARTIFACT_URI`, value(ws(g.pick(['pkg:maven/g/a@1', 'file.tgz', 'gcr.io/a/app', '']))));
          if (maybe(0.8)) push(`${m}ARTIFACT_DIGEST`, value(ws(digests())));
          break;
        case 5:
          push(`${m}ARTIFACT_OUTPUTS`, maybe(0.1) ? 'gcr.io/a/app' : obj());
          break;
        case 6:
          push(`${m}ARTIFACT_INPUTS`, maybe(0.1) ? ['x'] : obj());
          break;
        case 7:
          push(
            g.pick(['CHAINS-GIT_URL', 'CHAINS-GIT_COMMIT']),
            value(
              g.pick(['https://github.com/o/r', 'git+https://github.com/o/r.git', '', `${hex(40, 9)}\n`, hex(40, 9)]),
            ),
          );
          break;
        default:
          push(g.pick(['image_url', 'IMAGEDIGEST', 'other', 'commit', 'IMAGE_URLS']), value('x'));
      }
    }
    return out;
  };
  const imageID = (i: number) =>
    maybe(0.03)
      ? g.pick(['gcr.io/broken', ''])
      : `${g.pick(['docker-pullable://', ''])}gcr.io/step/s${i % 3}@${sha256(i % 3)}`;
  const taskRun = (name: string, task?: string, completed = true): TaskRun => {
    const params = [] as NonNullable<TaskRun['spec']['params']>;
    if (maybe(0.3)) params.push({ name: 'CHAINS-GIT_URL', value: g.pick(['https://github.com/p/p', '']) });
    if (maybe(0.3)) params.push({ name: 'CHAINS-GIT_COMMIT', value: g.pick([hex(40, 4), '', ['a']]) });
    const defaults = maybe(0.3)
      ? [
          { name: 'CHAINS-GIT_COMMIT', default: hex(40, 5) },
          { name: 'CHAINS-GIT_URL', default: 'https://default/d' },
        ]
      : [];
    return {
      apiVersion: 'tekton.dev/v1',
      kind: 'TaskRun',
      metadata: { name, ...(task ? { labels: { 'tekton.dev/pipelineTask': task } } : {}) },
      spec: { params },
      status: {
        conditions: [{ type: 'Succeeded', status: 'True' }],
        ...(completed ? { completionTime: '2026-01-01T00:00:00Z' } : {}),
        results: results(g.int(7)),
        steps: Array.from({ length: g.int(4) }, (_, i) => ({
          name: `s${i}`,
          imageID: imageID(i),
          ...(maybe(0.4) ? { results: results(g.int(3)) } : {}),
        })),
        ...(maybe(0.2) ? { sidecars: [{ name: 'side', imageID: `gcr.io/side/car@${sha256(9)}` }] } : {}),
        taskSpec: { params: defaults },
        ...(maybe(0.3)
          ? { provenance: { refSource: { uri: 'git+https://github.com/t/t', digest: { sha1: hex(40, 6) } } } }
          : {}),
      },
    };
  };
  const out: DiffCase[] = [];
  for (let i = 0; i < taskRuns; i++) out.push({ id: `random-taskrun-${i}`, kind: 'TaskRun', run: taskRun(`tr-${i}`) });
  for (let i = 0; i < pipelineRuns; i++) {
    const tasks = ['t0', 't1', 't2'].slice(0, 1 + g.int(3));
    const children = Array.from({ length: 1 + g.int(4) }, (_, j) =>
      taskRun(`pr-${i}-c${j}`, g.pick([...tasks, 'gone']), maybe(0.85)),
    );
    const run: PipelineRun = {
      apiVersion: 'tekton.dev/v1',
      kind: 'PipelineRun',
      metadata: { name: `pr-${i}` },
      spec: { params: maybe(0.3) ? [{ name: 'CHAINS-GIT_URL', value: 'https://github.com/pr/pr' }] : [] },
      status: {
        conditions: [{ type: 'Succeeded', status: 'True' }],
        results: results(g.int(6)),
        ...(maybe(0.9)
          ? {
              pipelineSpec: {
                tasks: tasks.map((name) => ({ name })),
                ...(maybe(0.3) ? { finally: [{ name: 'gone' }] } : {}),
                params: maybe(0.3) ? [{ name: 'CHAINS-GIT_COMMIT', default: hex(40, 8) }] : [],
              },
            }
          : {}),
        ...(maybe(0.5)
          ? { provenance: { refSource: { uri: 'git+https://github.com/p/def', digest: { sha1: hex(40, 1) } } } }
          : {}),
      },
    };
    out.push({ id: `random-pipelinerun-${i}`, kind: 'PipelineRun', run, children });
  }
  return out;
}

/** Every differential case, deterministically. */
export function buildCases(): DiffCase[] {
  return [...fixtureCases(), ...randomCases(8675309, 300, 60)];
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(JSON.stringify(buildCases()) + '\n');
