// The demo's sample workload: a build TaskRun and a PipelineRun (with its child TaskRun), created and
// completed on the stack the way Tekton's controller completes them, then watched until chainsmith
// marks them signed. Used by e2e/demo.sh:
//   sample-runs.ts create NAMESPACE APP_IMAGE.json WEB_IMAGE.json   > runs.json
//   sample-runs.ts describe runs.json
//   sample-runs.ts wait runs.json TIMEOUT_SECONDS                   (exit 1 if a run is not signed)
import { readFileSync } from 'node:fs';
import type { PipelineRun, RunResult, TaskRun, TaskRunSpec } from '../../src/tekton/types.js';
import {
  childReference,
  completePipelineRun,
  completeTaskRun,
  createChildTaskRun,
  createPipelineRun,
  createTaskRun,
  eventsOf,
  kube,
  randomSuffix,
} from '../lib/index.js';
import { PIPELINERUNS, TASKRUNS } from '../../src/kube/client.js';

const DEMO_LABEL = { 'app.kubernetes.io/part-of': 'chainsmith-demo' };

interface PushedImage {
  repository: string;
  digest: string;
}

interface DemoRun {
  kind: 'TaskRun' | 'PipelineRun';
  namespace: string;
  name: string;
  uid: string;
  image: string;
  role: string;
}

const SIGNED = 'chains.tekton.dev/signed';
const GIT = { url: 'https://github.com/chainsmith/demo-app', commit: '9e2f1b7c4a3d5e6f708192a3b4c5d6e7f8091a2b' };

const readImage = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as PushedImage;

/** What a kaniko/buildah-style build Task reports: IMAGE_URL + IMAGE_DIGEST (type hinting) and the git source. */
function buildResults(image: PushedImage): RunResult[] {
  return [
    { name: 'IMAGE_URL', type: 'string', value: `${image.repository}:latest` },
    { name: 'IMAGE_DIGEST', type: 'string', value: image.digest },
    { name: 'CHAINS-GIT_URL', type: 'string', value: GIT.url },
    { name: 'CHAINS-GIT_COMMIT', type: 'string', value: GIT.commit },
  ];
}

const buildSpec = (image: PushedImage): TaskRunSpec => ({
  serviceAccountName: 'default',
  taskRef: { kind: 'Task', name: 'build-push' },
  params: [{ name: 'IMAGE', value: `${image.repository}:latest` }],
});

async function create(ns: string, appFile: string, webFile: string): Promise<DemoRun[]> {
  const app = readImage(appFile);
  const web = readImage(webFile);
  const suffix = randomSuffix();

  // 1. A standalone build TaskRun that pushed the "app" image.
  const created = await createTaskRun(ns, {
    metadata: { name: `build-app-${suffix}`, labels: DEMO_LABEL },
    spec: buildSpec(app),
  });
  const taskRun = await completeTaskRun(ns, created.metadata.name!, { results: buildResults(app) });

  // 2. A PipelineRun whose "build" task pushed the "web" image and whose pipeline results report it.
  const pipelineRun = await createPipelineRun(ns, {
    metadata: { name: `release-web-${suffix}`, labels: DEMO_LABEL },
    spec: {
      pipelineRef: { name: 'build-and-push' },
      params: [{ name: 'IMAGE', value: `${web.repository}:latest` }],
      taskRunTemplate: { serviceAccountName: 'default' },
    },
  });
  const child = await createChildTaskRun(pipelineRun, 'build', {
    metadata: { labels: DEMO_LABEL },
    spec: buildSpec(web),
  });
  const childDone = await completeTaskRun(ns, child.metadata.name!, { results: buildResults(web) });
  const done = await completePipelineRun(ns, pipelineRun.metadata.name!, {
    childReferences: [childReference(childDone)],
    results: [
      { name: 'IMAGE_URL', value: `${web.repository}:latest` },
      { name: 'IMAGE_DIGEST', value: web.digest },
    ],
  });

  const entry = (run: TaskRun | PipelineRun, image: PushedImage, role: string): DemoRun => ({
    kind: run.kind,
    namespace: ns,
    name: run.metadata.name!,
    uid: run.metadata.uid!,
    image: `${image.repository}@${image.digest}`,
    role,
  });
  return [
    entry(taskRun, app, 'build TaskRun'),
    entry(childDone, web, 'the PipelineRun\'s "build" task'),
    entry(done, web, 'PipelineRun'),
  ];
}

function describe(runs: DemoRun[]): void {
  for (const r of runs) {
    process.stdout.write(
      `  ${r.kind.padEnd(11)} ${r.namespace}/${r.name}  (${r.role})\n              results IMAGE_URL/IMAGE_DIGEST → ${r.image}\n`,
    );
  }
}

type Annotated = { metadata: { annotations?: Record<string, string> } };

async function fetchRun(r: DemoRun): Promise<Annotated> {
  const run = await kube().get<Annotated>(r.kind === 'TaskRun' ? TASKRUNS : PIPELINERUNS, r.namespace, r.name);
  if (!run) throw new Error(`${r.kind} ${r.namespace}/${r.name} is gone`);
  return run;
}

/** The Events recorded on a run (`kubectl describe` shows the same): `Signed`, or why it was not signed. */
async function eventsFor(r: DemoRun): Promise<string[]> {
  const events = await eventsOf(r.namespace, { uid: r.uid });
  return events.map((e) => `${e.type ?? ''} ${e.reason ?? ''}: ${shorten(e.message ?? '', 200)}`);
}

/** Events are sent asynchronously after the mark; give them a moment to arrive. */
async function waitForEvents(r: DemoRun): Promise<string[]> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const events = await eventsFor(r);
    if (events.length > 0 || Date.now() > deadline) return events;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const shorten = (v: string, max = 96) => (v.length > max ? `${v.slice(0, max - 36)}… (${v.length} chars)` : v);

async function wait(runs: DemoRun[], timeoutSeconds: number): Promise<number> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  const state = new Map<string, string>();
  const start = Date.now();
  let lastReport = 0;
  while (Date.now() < deadline) {
    for (const r of runs) {
      const value = (await fetchRun(r)).metadata.annotations?.[SIGNED];
      if (value !== undefined && state.get(r.uid) !== value) {
        process.stdout.write(
          `  ${SIGNED}: "${value}"  ${r.kind}/${r.name}  after ${((Date.now() - start) / 1000).toFixed(1)}s\n`,
        );
      }
      if (value !== undefined) state.set(r.uid, value);
    }
    if (runs.every((r) => state.get(r.uid) === 'true' || state.get(r.uid) === 'failed')) break;
    if (Date.now() - lastReport > 10_000) {
      lastReport = Date.now();
      const pending = runs.filter((r) => !state.has(r.uid)).map((r) => r.name);
      process.stdout.write(`  … waiting for ${pending.join(', ')} (${Math.round((Date.now() - start) / 1000)}s)\n`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  let allSigned = true;
  for (const r of runs) {
    const annotations = (await fetchRun(r)).metadata.annotations ?? {};
    process.stdout.write(`\n  ${r.kind} ${r.namespace}/${r.name}\n`);
    const ours = Object.entries(annotations).filter(
      ([k]) => k.startsWith('chains.tekton.dev/') || k.startsWith('chainsmith.dev/'),
    );
    for (const [k, v] of ours.sort(([a], [b]) => a.localeCompare(b))) process.stdout.write(`    ${k}: ${shorten(v)}\n`);
    if (annotations[SIGNED] !== 'true') {
      allSigned = false;
      process.stdout.write(`    NOT SIGNED (${annotations[SIGNED] ?? 'no signed annotation'})\n`);
    }
    // chainsmith explains every run with an Event: `Signed`, or the reason it was not signed.
    const events = await waitForEvents(r);
    for (const e of events) process.stdout.write(`    Event ${e}\n`);
  }
  return allSigned ? 0 : 1;
}

const [command, ...args] = process.argv.slice(2);
const readRuns = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as DemoRun[];
if (command === 'create' && args.length === 3) {
  process.stdout.write(JSON.stringify(await create(args[0]!, args[1]!, args[2]!), null, 2) + '\n');
} else if (command === 'describe' && args.length === 1) {
  describe(readRuns(args[0]!));
} else if (command === 'wait' && args.length === 2) {
  process.exitCode = await wait(readRuns(args[0]!), Number(args[1]));
} else {
  process.stderr.write(
    'usage: sample-runs.ts create NS APP.json WEB.json | describe RUNS.json | wait RUNS.json SECONDS\n',
  );
  process.exitCode = 2;
}
