// Benchmark (not a test): chainsmith's controller under a burst on the local stack.
//   node --import tsx bench/controller-burst.ts [--runs 1000] [--present 10000] [--workers 16] [--qps 50] [--burst 100]
// Phase 1: N TaskRuns (IMAGE_URL/IMAGE_DIGEST results) are completed at once, tekton storage (image signatures
// in annotations too). Prints runs signed per second, p50/p99 completion→signed latency, API write requests per
// run (apiserver_request_total deltas for PATCH/POST, with the harness's own requests subtracted) and the
// controller's peak RSS. Phase 2: a fresh controller starts in a namespace holding `--present` completed,
// already-signed runs (payload annotations included, as Chains or chainsmith leave them) and its RSS is sampled
// once its informers have synced.
import { execFile, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { CONFIGMAPS, TASKRUNS } from '../src/kube/client.js';
import {
  completeTaskRun,
  createNamespace,
  createTaskRun,
  kube,
  REPO_ROOT,
  stackEnv,
  startController,
  watchObjects,
} from '../e2e/lib/index.js';
import { encryptCosignKey } from '../src/signing/cosign-key.js';
import type { TaskRun } from '../src/tekton/types.js';
import { mapLimit } from './lib/pool.js';

const run = promisify(execFile);
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '1000' },
    present: { type: 'string', default: '10000' },
    workers: { type: 'string', default: '16' },
    qps: { type: 'string', default: '50' },
    burst: { type: 'string', default: '100' },
    // run the controller compiled (as the container does) instead of through tsx, which adds ~35 MiB of RSS
    compiled: { type: 'boolean', default: false },
  },
});
const N = Number(values.runs);
const PRESENT = Number(values.present);
const DIGEST = 'sha256:4d6dd704ef58cb214dd826519929e92a978a57cdee43693006139c0080fd6fac';

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** apiserver_request_total summed by verb for TaskRuns (main resource only) and Events. */
async function apiWrites(): Promise<{ patchRuns: number; postEvents: number; patchStatus: number; postRuns: number }> {
  const env = stackEnv();
  const { stdout } = await run(env.kubectl, ['--kubeconfig', env.kubeconfig, 'get', '--raw', '/metrics'], {
    maxBuffer: 256 << 20,
  });
  const out = { patchRuns: 0, postEvents: 0, patchStatus: 0, postRuns: 0 };
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const labels = Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    const v = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (labels.resource === 'taskruns' && labels.verb === 'PATCH' && !labels.subresource) out.patchRuns += v;
    if (labels.resource === 'taskruns' && labels.verb === 'PATCH' && labels.subresource === 'status')
      out.patchStatus += v;
    if (labels.resource === 'taskruns' && labels.verb === 'POST') out.postRuns += v;
    if (labels.resource === 'events' && labels.verb === 'POST') out.postEvents += v;
  }
  return out;
}

/** Peak (VmHWM) and current (VmRSS) resident memory of a process, in MiB. */
async function rss(pid: number): Promise<{ peak: number; now: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { peak: kb('VmHWM') / 1024, now: kb('VmRSS') / 1024 };
}

async function signingSecrets(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'chainsmith-bench-'));
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  await writeFile(join(dir, 'cosign.key'), await encryptCosignKey(privateKey, 'bench'));
  await writeFile(join(dir, 'cosign.password'), 'bench');
  return dir;
}

async function writeConfig(systemNs: string): Promise<void> {
  await kube().create(CONFIGMAPS, systemNs, {
    metadata: { name: 'chains-config' },
    data: { 'artifacts.taskrun.storage': 'tekton', 'artifacts.oci.storage': 'tekton' },
  });
}

interface Proc {
  pid: number;
  waitForLog(re: RegExp, timeoutMs: number): Promise<unknown>;
  stop(): Promise<unknown>;
}

const COMPILED_DIR = join(REPO_ROOT, 'bench', 'out', 'controller-burst-dist');

/** Compiles the project once into bench/out (not dist/, which other tools own). */
async function compile(): Promise<void> {
  await run(
    process.execPath,
    [
      join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
      '-p',
      join(REPO_ROOT, 'tsconfig.json'),
      '--outDir',
      COMPILED_DIR,
    ],
    { cwd: REPO_ROOT },
  ).catch(() => undefined); // type errors elsewhere do not stop emit
}

/** Starts the controller through tsx (e2e/lib) or compiled. */
async function startBenchController(args: string[], env: Record<string, string>): Promise<Proc> {
  if (!values.compiled) return startController(args, env);
  const child = spawn(process.execPath, [join(COMPILED_DIR, 'src', 'cli', 'main.js'), 'controller', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, KUBECONFIG: stackEnv().kubeconfig, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const waiters: Array<() => void> = [];
  for (const s of [child.stdout!, child.stderr!])
    s.on('data', (c: Buffer) => {
      out += c.toString();
      for (const w of waiters.splice(0)) w();
    });
  const exited = new Promise((r) => child.once('exit', r));
  return {
    pid: child.pid!,
    waitForLog: (re, timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no log line ${re}`)), timeoutMs);
        const check = () => (re.test(out) ? (clearTimeout(timer), resolve()) : waiters.push(check));
        check();
      }),
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function controllerArgs(ns: string, keys: string): string[] {
  return [
    '--namespace',
    ns,
    '--signing-secrets-dir',
    keys,
    '--metrics-addr',
    '127.0.0.1:0',
    '--leader-elect=false',
    '--workers',
    values.workers!,
    '--kube-api-qps',
    values.qps!,
    '--kube-api-burst',
    values.burst!,
    '--log-level',
    'info',
  ];
}

async function burst(keys: string): Promise<void> {
  const ns = await createNamespace('bench-burst');
  const systemNs = await createNamespace('bench-burst-sys');
  await writeConfig(systemNs);
  const names = Array.from({ length: N }, (_, i) => `burst-${String(i).padStart(5, '0')}`);
  await mapLimit(names, 32, async (name) => void (await createTaskRun(ns, { metadata: { name } })));

  const controller = await startBenchController(controllerArgs(ns, keys), { SYSTEM_NAMESPACE: systemNs });
  await controller.waitForLog(/informers synced/, 120_000);
  await new Promise((r) => setTimeout(r, 2000));

  const signedAt = new Map<string, number>();
  const completedAt = new Map<string, number>();
  // list-then-watch: a dropped stream reconnects from its last resourceVersion, so no signed run is missed
  const watch = watchObjects<TaskRun>(kube(), TASKRUNS, ns, (obj) => {
    if (obj.metadata.annotations?.['chains.tekton.dev/signed'] === 'true' && !signedAt.has(obj.metadata.name!))
      signedAt.set(obj.metadata.name!, Date.now());
  });
  await watch.synced;

  let peak = 0;
  const sampler = setInterval(
    () =>
      void rss(controller.pid).then(
        (r) => (peak = Math.max(peak, r.peak)),
        () => undefined,
      ),
    250,
  );
  const before = await apiWrites();
  const t0 = Date.now();
  await mapLimit(names, 64, async (name) => {
    await completeTaskRun(ns, name, {
      results: [
        { name: 'IMAGE_DIGEST', type: 'string', value: DIGEST },
        { name: 'IMAGE_URL', type: 'string', value: `${stackEnv().registry}/bench/${name}` },
      ],
    });
    completedAt.set(name, Date.now());
  });
  const tCompleted = Date.now();
  const deadline = Date.now() + 20 * 60_000;
  while (signedAt.size < N && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  const tDone = Date.now();
  await new Promise((r) => setTimeout(r, 2000)); // let trailing Event POSTs land before reading the counters
  const afterW = await apiWrites();
  clearInterval(sampler);
  peak = Math.max(peak, (await rss(controller.pid)).peak);
  watch.stop();
  await controller.stop();

  const lat = names
    .filter((n) => signedAt.has(n))
    .map((n) => (signedAt.get(n)! - completedAt.get(n)!) / 1000)
    .sort((a, b) => a - b);
  const patches = afterW.patchRuns - before.patchRuns;
  const events = afterW.postEvents - before.postEvents;
  const firstCompletion = Math.min(...completedAt.values());
  console.log(
    `burst: ${N} TaskRuns completed in ${((tCompleted - t0) / 1000).toFixed(1)} s; signed ${signedAt.size}/${N}`,
  );
  console.log(
    `  throughput        ${(signedAt.size / ((tDone - firstCompletion) / 1000)).toFixed(1)} runs signed/s (first completion → last signed)`,
  );
  console.log(
    `  completion→signed p50 ${percentile(lat, 50).toFixed(2)} s, p99 ${percentile(lat, 99).toFixed(2)} s, max ${lat.at(-1)?.toFixed(2)} s`,
  );
  console.log(
    `  API writes/run    ${(patches / N).toFixed(2)} PATCH on the run + ${(events / N).toFixed(2)} POST Event = ${((patches + events) / N).toFixed(2)} (status patches by the harness excluded: ${afterW.patchStatus - before.patchStatus})`,
  );
  console.log(`  controller RSS    peak ${peak.toFixed(0)} MiB`);
}

async function present(keys: string): Promise<void> {
  const ns = await createNamespace('bench-present');
  const systemNs = await createNamespace('bench-present-sys');
  await writeConfig(systemNs);
  // a signed run as a tekton-storage cluster holds it: ~4 KiB of payload/signature annotations each
  const payload = Buffer.alloc(2400, 'p').toString('base64');
  const sig = Buffer.alloc(600, 's').toString('base64');
  const t0 = Date.now();
  const names = Array.from({ length: PRESENT }, (_, i) => `done-${String(i).padStart(5, '0')}`);
  await mapLimit(names, 48, async (name) => {
    const uid = 'x';
    await createTaskRun(ns, {
      metadata: {
        name,
        annotations: {
          'chains.tekton.dev/signed': 'true',
          // a mark backed by evidence (a forged bare `signed: "true"` is re-signed by the controller)
          'chainsmith.dev/signed-at': '2026-11-23T12:00:00Z',
          [`chains.tekton.dev/payload-taskrun-${uid}`]: payload,
          [`chains.tekton.dev/signature-taskrun-${uid}`]: sig,
          [`chains.tekton.dev/cert-taskrun-${uid}`]: '',
          [`chains.tekton.dev/chain-taskrun-${uid}`]: '',
        },
      },
    });
    await completeTaskRun(ns, name, {
      results: [
        { name: 'IMAGE_DIGEST', type: 'string', value: DIGEST },
        { name: 'IMAGE_URL', type: 'string', value: `${stackEnv().registry}/bench/${name}` },
      ],
    });
  });
  console.log(`present: ${PRESENT} completed, signed TaskRuns created in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  const controller = await startBenchController(controllerArgs(ns, keys), { SYSTEM_NAMESPACE: systemNs });
  await controller.waitForLog(/informers synced/, 5 * 60_000);
  const synced = Date.now();
  await new Promise((r) => setTimeout(r, 10_000));
  global.gc?.();
  const r = await rss(controller.pid);
  console.log(
    `  controller RSS with ${PRESENT} completed runs: ${r.now.toFixed(0)} MiB now, ${r.peak.toFixed(0)} MiB peak (sampled ${((Date.now() - synced) / 1000).toFixed(0)} s after start-up)`,
  );
  await controller.stop();
}

const keys = await signingSecrets();
if (values.compiled) await compile();
console.log(
  `controller: ${values.compiled ? 'compiled JS' : 'tsx'}, --workers ${values.workers} --kube-api-qps ${values.qps} --kube-api-burst ${values.burst}`,
);
try {
  if (N > 0) await burst(keys);
  if (PRESENT > 0) await present(keys);
} finally {
  await rm(keys, { recursive: true, force: true });
}
