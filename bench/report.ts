// bench/RESULTS.md: the table, the targets, the machine, the versions and the command.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { ARMS } from './arms/index.js';
import type { ArmName } from './arms/types.js';
import { CHAINS_VERSION } from './arms/chains.js';
import { IN_TOTO_TEKTON, IN_TOTO_TEKTON_KEYLESS, IN_TOTO_TEKTON_REKOR, SLSA_V2ALPHA4_OCI } from './lib/configs.js';
import { fulcioRequestsPerRun } from './measure/fulcio.js';
import { rekorRequestsPerRun } from './measure/rekor.js';
import { REPO_ROOT } from './lib/stack.js';
import type { Sizes } from './plan.js';
import type { WorkloadName, WorkloadResult } from './workloads/types.js';

export interface Row {
  config: string;
  arm: ArmName;
  workload: WorkloadName;
  result?: WorkloadResult;
  error?: string;
}

export interface Report {
  rows: Row[];
  quick: boolean;
  sizes: Sizes;
  started: Date;
  finished: Date;
  argv: string[];
  logDir: string;
}

const f = (n: number, d = 2): string => (Number.isFinite(n) ? n.toFixed(d) : '-');

function find(rows: Row[], config: string, arm: ArmName, workload: WorkloadName): WorkloadResult | undefined {
  return rows.find((r) => r.config === config && r.arm === arm && r.workload === workload)?.result;
}

/**
 * `arm`'s burst throughput (chainsmith's unless told) over Chains' (default, tuned) and over the ceiling, on one
 * config (default in-toto/tekton).
 */
export function ratios(
  rows: Row[],
  config = IN_TOTO_TEKTON.name,
  arm: ArmName = 'chainsmith',
): { vsDefault: number; vsTuned: number; vsCeiling: number } {
  const tp = (a: ArmName): number => find(rows, config, a, 'burst')?.throughput ?? NaN;
  return {
    vsDefault: tp(arm) / tp('chains-default'),
    vsTuned: tp(arm) / tp('chains-tuned'),
    vsCeiling: tp(arm) / tp('ceiling'),
  };
}

/** The row config of one arm of a replicas config (issue 23): `<config>: <count> replica(s)`. */
export function replicaConfigName(config: string, count: number): string {
  return `${config}: ${count} replica${count === 1 ? '' : 's'}`;
}

const isReplicaRow = (x: Row): boolean => x.workload === 'replicas';

/** The row config of one arm of the signing-policies config (issue 24): `<config>: single-config | 20×20 policies`. */
export function policiesConfigName(config: string, arm: 'single-config' | 'policies'): string {
  return `${config}: ${arm === 'policies' ? '20×20 policies' : 'single-config'}`;
}

const isPoliciesRow = (x: Row): boolean => x.workload === 'policies';
/** Rows of the configs with their own table and targets (replicas, signing policies), not issue 8's. */
const isOwnTableRow = (x: Row): boolean => isReplicaRow(x) || isPoliciesRow(x);

/** The issue 24 ratio: the policies arm's burst throughput over the single-config arm's, in the same run. */
export function policiesRatio(rows: Row[]): { ratio: number; single?: WorkloadResult; policies?: WorkloadResult } {
  const single = rows.find((x) => x.result?.policies?.arm === 'single-config')?.result;
  const policies = rows.find((x) => x.result?.policies?.arm === 'policies')?.result;
  return {
    ratio: (policies?.throughput ?? NaN) / (single?.throughput ?? NaN),
    ...(single ? { single } : {}),
    ...(policies ? { policies } : {}),
  };
}

/**
 * The signing-policies table (issue 24): per arm, runs/s, latency, CPU and API cost per run, each throughput and CPU
 * figure also as a ratio to the single-config arm of the same run, and what the harness checked about the signers.
 */
function policiesTable(rows: Row[]): string[] {
  const withFigures = rows.filter((x) => x.result?.policies);
  if (withFigures.length === 0) return [];
  const { single } = policiesRatio(rows);
  const out = [
    '| arm | namespaces × policies | tenant Secrets | runs signed | runs/s | × single-config | p50 s | p95 s | CPU s/run | × single-config | API req/run | API writes/run | Secret GETs/run | kube-apiserver+etcd CPU s/run | peak RSS MiB | signers checked |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const row of withFigures) {
    const r = row.result!;
    const k = r.policies!;
    out.push(
      `| ${k.arm} | ${k.namespaces} × ${k.policiesPerNamespace} | ${k.secrets} | ${r.signed}/${r.runs}${r.timedOut ? ' **timed out**' : ''} | ${f(r.throughput)} | ` +
        `${single ? f(r.throughput / single.throughput) : '-'} | ${f(r.latency.p50)} | ${f(r.latency.p95)} | ${f(r.cpuSecondsPerRun, 4)} | ` +
        `${single ? f(r.cpuSecondsPerRun / single.cpuSecondsPerRun) : '-'} | ${f(r.apiRequestsPerRun, 2)} | ${f(k.writesPerRun, 2)} | ` +
        `${f(k.secretReadsPerRun, 3)} | ${k.serverCpuSecondsPerRun === undefined ? '-' : f(k.serverCpuSecondsPerRun, 4)} | ${f(r.peakRssMiB, 0)} | ${k.signerCheck} |`,
    );
  }
  return out;
}

/**
 * The replicas configs' table (issue 23): per replica count, runs/s, CPU s/run summed over replicas, API requests,
 * writes and Lease requests per run, and each as a ratio to the 1-replica arm of the same config in the same run.
 */
function replicasTable(rows: Row[]): string[] {
  const withFigures = rows.filter((x) => x.result?.replicas);
  if (withFigures.length === 0) return [];
  const base = (config: string): WorkloadResult | undefined =>
    withFigures.find((x) => x.result!.replicas!.count === 1 && x.config === replicaConfigName(config, 1))?.result;
  const out = [
    '| config | replicas (buckets) | runs signed | runs/s | × 1 replica | CPU s/run (sum of replicas) | × 1 replica | CPU s by replica | API req/run | API writes/run | Lease req/run (API server) | Lease req/s, burst (API server) | Lease requests by verb, burst (replicas’ counter) | Lease req/s, idle (API server) | Lease requests/s by verb, idle (replicas’ counter) | kube-apiserver+etcd CPU s/run | peak RSS MiB (largest replica) |',
    '|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---|---:|---|---:|---:|',
  ];
  for (const row of withFigures) {
    const r = row.result!;
    const k = r.replicas!;
    const config = row.config.replace(/: \d+ replicas?$/, '');
    const b = base(config);
    const verbs = Object.entries(k.leaseByVerb)
      .filter(([, v]) => v > 0)
      .map(([verb, v]) => `${verb} ${v}`)
      .join(', ');
    const idleVerbs = Object.entries(k.idle.byVerb)
      .filter(([, v]) => v > 0)
      .map(([verb, v]) => `${verb} ${f(v / k.idle.seconds, 2)}`)
      .join(', ');
    out.push(
      `| ${config} | ${k.count} (${k.buckets}) | ${r.signed}/${r.runs}${r.timedOut ? ' **timed out**' : ''} | ${f(r.throughput)} | ${b ? f(r.throughput / b.throughput) : '-'} | ` +
        `${f(r.cpuSecondsPerRun, 4)} | ${b ? f(r.cpuSecondsPerRun / b.cpuSecondsPerRun) : '-'} | ${k.cpuSecondsByReplica.map((c) => f(c, 1)).join(' + ')} | ` +
        `${f(r.apiRequestsPerRun, 2)} | ${f(k.writesPerRun, 2)} | ${f(k.leaseRequestsPerRun, 3)} | ${f(k.leaseRequestsPerSecond, 2)} | ${verbs || '-'} | ` +
        `${f(k.idle.apiLeaseRequestsPerSecond, 2)} (${f(k.idle.seconds, 0)} s) | ${idleVerbs || '-'} | ` +
        `${k.serverCpuSecondsPerRun === undefined ? '-' : f(k.serverCpuSecondsPerRun, 4)} | ${f(r.peakRssMiB, 0)} |`,
    );
  }
  return out;
}

/** The configs with a Sigstore service (Rekor, Fulcio): their own targets, findings and ratio line. */
const SIGSTORE_CONFIGS = [IN_TOTO_TEKTON_REKOR.name, IN_TOTO_TEKTON_KEYLESS.name];

/**
 * The exact last line `npm run bench` prints: the in-toto + tekton ratios, or, when only the Rekor or only the
 * keyless config ran, that config's (named in the line; keyless adds the certificate-reuse arm's).
 */
export function ratioLine(rows: Row[]): string {
  if (rows.length > 0 && rows.every(isPoliciesRow)) {
    const p = policiesRatio(rows);
    return `throughput ratio (signing policies) 20×20 policies/single-config: ${p.ratio.toFixed(2)}`;
  }
  if (rows.length > 0 && rows.every(isReplicaRow)) {
    const parts = rows.flatMap((x) => {
      const k = x.result?.replicas;
      const base = rows.find(
        (y) => y.result?.replicas?.count === 1 && y.config === x.config.replace(/: \d+ replicas?$/, ': 1 replica'),
      )?.result;
      return k && k.count > 1 && base
        ? [`${x.config} vs 1: ${(x.result!.throughput / base.throughput).toFixed(2)}`]
        : [];
    });
    return `throughput ratio (replicas): ${parts.join(', ') || '-'}`;
  }
  const only = SIGSTORE_CONFIGS.find((c) => rows.length > 0 && rows.every((x) => x.config === c));
  const r = ratios(rows, only ?? IN_TOTO_TEKTON.name);
  const reuse = only === IN_TOTO_TEKTON_KEYLESS.name ? ratios(rows, only, 'chainsmith-reuse') : undefined;
  return (
    `throughput ratio${only ? ` (${only})` : ''} chainsmith/chains (default): ` +
    `${r.vsDefault.toFixed(2)}, chainsmith/chains (tuned): ${r.vsTuned.toFixed(2)}` +
    (only ? `, chainsmith/ceiling: ${r.vsCeiling.toFixed(2)}` : '') +
    (reuse ? `, chainsmith-reuse/chains (tuned): ${reuse.vsTuned.toFixed(2)}` : '')
  );
}

function table(rows: Row[]): string[] {
  // The Rekor columns only when a config uploaded to Rekor, so the other tables keep their shape.
  const rekor = rows.some((x) => x.result?.rekor);
  const fulcio = rows.some((x) => x.result?.fulcio);
  const out = [
    '| config | workload | arm | runs | signed | runs/s | p50 s | p95 s | p99 s | latency of | CPU s/run | peak RSS MiB | API req/run |' +
      (fulcio ? ' Fulcio req/run (certs/run) | Fulcio latency mean ms |' : '') +
      (rekor ? ' Rekor req/run (entries/run) | Rekor POST p50 / p95 ms |' : '') +
      ' notes |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|' +
      (fulcio ? '---:|---:|' : '') +
      (rekor ? '---:|---:|' : '') +
      '---|',
  ];
  const ms = (n: number): string => f(n * 1000, 0);
  for (const row of rows) {
    const r = row.result;
    if (!r) {
      out.push(
        `| ${row.config} | ${row.workload} | ${row.arm} | | | | | | | | | | |${fulcio ? ' | |' : ''}${rekor ? ' | |' : ''} failed: ${(row.error ?? '').replace(/\|/g, '/')} |`,
      );
      continue;
    }
    const notes = [...(r.timedOut ? ['**timed out**'] : []), ...r.notes].join('; ');
    const tl = r.rekor;
    const rekorCells = !rekor
      ? ''
      : tl
        ? ` ${f(rekorRequestsPerRun(tl))} (${f(tl.entries / Math.max(1, tl.runs))}) | ${ms(tl.post.p50)} / ${ms(tl.post.p95)} |`
        : ' - | - |';
    const fc = r.fulcio;
    const fulcioCells = !fulcio
      ? ''
      : fc
        ? ` ${f(fulcioRequestsPerRun(fc))} (${f(fc.certificates / Math.max(1, fc.runs))}) | ${ms(fc.latency.mean)} |`
        : ' - | - |';
    out.push(
      `| ${row.config} | ${row.workload} | ${row.arm} | ${r.runs} | ${r.signed} | ${f(r.throughput)} | ${f(r.latency.p50)} | ${f(r.latency.p95)} | ${f(r.latency.p99)} | ${r.latencyOf} | ${f(r.cpuSecondsPerRun, 4)} | ${f(r.peakRssMiB, 0)} | ${f(r.apiRequestsPerRun, 1)} |${fulcioCells}${rekorCells} ${notes} |`,
    );
  }
  return out;
}

function targets(rows: Row[]): string[] {
  const ok = (b: boolean): string => (b ? 'met' : '**not met**');
  const out = ['| target | measured | status |', '|---|---|---|'];
  const rekorConfig = IN_TOTO_TEKTON_REKOR.name;
  if (rows.some((x) => x.config === rekorConfig)) {
    const r = ratios(rows, rekorConfig);
    // What the Rekor ceiling reaches over Chains tuned: no signer that logs its attestations can do better here.
    const ceilingVsTuned =
      (find(rows, rekorConfig, 'ceiling', 'burst')?.throughput ?? NaN) /
      (find(rows, rekorConfig, 'chains-tuned', 'burst')?.throughput ?? NaN);
    const bound =
      Number.isFinite(ceilingVsTuned) && ceilingVsTuned < 3
        ? ` (the Rekor ceiling itself is ${f(ceilingVsTuned)}×: out of reach on this machine)`
        : '';
    out.push(
      `| issue 17: ${rekorConfig} burst: chainsmith ≥ 3× Chains tuned | ${f(r.vsTuned)}×${bound} | ${ok(r.vsTuned >= 3)} |`,
      `| issue 17: ${rekorConfig} burst: chainsmith ≥ 70 % of the Rekor ceiling | ${f(r.vsCeiling * 100, 0)} % of the ceiling | ${ok(r.vsCeiling >= 0.7)} |`,
    );
  }
  const keylessConfig = IN_TOTO_TEKTON_KEYLESS.name;
  if (rows.some((x) => x.config === keylessConfig)) {
    const r = ratios(rows, keylessConfig);
    const reuse = ratios(rows, keylessConfig, 'chainsmith-reuse');
    // What the keyless ceiling (a certificate and an entry per run) reaches over Chains tuned.
    const ceilingVsTuned =
      (find(rows, keylessConfig, 'ceiling', 'burst')?.throughput ?? NaN) /
      (find(rows, keylessConfig, 'chains-tuned', 'burst')?.throughput ?? NaN);
    const bound = Number.isFinite(ceilingVsTuned)
      ? ` (the keyless ceiling, a certificate per run, is ${f(ceilingVsTuned)}×${ceilingVsTuned < 3 ? ': out of reach on this machine' : ''})`
      : '';
    out.push(
      `| issue 18: ${keylessConfig} burst: chainsmith ≥ 3× Chains tuned | ${f(r.vsTuned)}×${bound} | ${ok(r.vsTuned >= 3)} |`,
      `| issue 18 (option): ${keylessConfig} burst: chainsmith with \`chainsmith.keyless.reuse-certificate\` vs Chains tuned | ${f(reuse.vsTuned)}× | ${Number.isFinite(reuse.vsTuned) ? (reuse.vsTuned >= 3 ? '≥ 3×' : '< 3×') : '-'} (an option, not the default) |`,
    );
  }
  if (rows.some(isReplicaRow))
    out.push(
      '| issue 23: 1, 2 and 3 replicas on one API server | the Replicas table above | no target: the figures feed the paper estimate in docs/benchmarks.md |',
    );
  if (rows.some(isPoliciesRow)) {
    const p = policiesRatio(rows);
    const measured =
      p.single && p.policies
        ? `${f(p.ratio)} (${f(p.policies.throughput)} vs ${f(p.single.throughput)} runs/s)`
        : 'an arm failed: see the table';
    out.push(
      `| issue 24: 20 namespaces × 20 policies within 10 % of the single-config burst | ${measured} | ${ok(p.ratio >= 0.9)} |`,
    );
  }
  const issue8 = rows.some((x) => !SIGSTORE_CONFIGS.includes(x.config) && !isOwnTableRow(x));
  for (const config of issue8 ? [IN_TOTO_TEKTON.name, SLSA_V2ALPHA4_OCI.name] : []) {
    if (!rows.some((x) => x.config === config)) continue;
    const r = ratios(rows, config);
    // What the ceiling arm reaches over Chains default: no signer on this machine can do better.
    const ceilingVsDefault =
      (find(rows, config, 'ceiling', 'burst')?.throughput ?? NaN) /
      (find(rows, config, 'chains-default', 'burst')?.throughput ?? NaN);
    const bound =
      Number.isFinite(ceilingVsDefault) && ceilingVsDefault < 10
        ? ` (the ceiling itself is ${f(ceilingVsDefault)}×: out of reach on this machine)`
        : '';
    const back = find(rows, config, 'chainsmith', 'backlog');
    out.push(
      `| issue 8: ${config} burst: chainsmith ≥ 10× Chains default | ${f(r.vsDefault)}×${bound} | ${ok(r.vsDefault >= 10)} |`,
      `| issue 8: ${config} burst: chainsmith ≥ 2× Chains tuned | ${f(r.vsTuned)}× | ${ok(r.vsTuned >= 2)} |`,
      `| issue 8: ${config} burst: chainsmith within 70 % of the ceiling | ${f(r.vsCeiling * 100, 0)} % of the ceiling | ${ok(r.vsCeiling >= 0.7)} |`,
    );
    if (back || config === IN_TOTO_TEKTON.name) {
      out.push(
        `| issue 8: ${config} backlog: p95 of new runs < 5 s while the backlog drains | ${back ? f(back.latency.p95) + ' s' : '-'} | ${ok(!!back && back.latency.p95 < 5)} |`,
      );
    }
  }
  if (!issue8) return out;
  const rss = (arm: ArmName): number =>
    Math.max(...rows.filter((x) => x.arm === arm && x.result).map((x) => x.result!.peakRssMiB));
  const rssCs = rss('chainsmith');
  const rssChains = Math.min(rss('chains-default'), rss('chains-tuned'));
  out.push(
    `| issue 8: peak RSS ≤ half of Chains' (max over workloads, vs the lower of Chains' two arms) | ${f(rssCs, 0)} MiB vs ${f(rssChains, 0)} MiB | ${ok(rssCs <= rssChains / 2)} |`,
  );
  return out;
}

function rekorVersions(): string {
  const text = readFileSync(join(REPO_ROOT, 'e2e/stack/addons/rekor-versions.sh'), 'utf8');
  const v = (k: string): string => new RegExp(`${k}:=([^}]+)}`).exec(text)?.[1] ?? '?';
  return `${v('REKOR_VERSION')} on Trillian ${v('TRILLIAN_VERSION')}`;
}

function fulcioVersion(): string {
  const text = readFileSync(join(REPO_ROOT, 'e2e/stack/addons/fulcio-versions.sh'), 'utf8');
  return /FULCIO_VERSION:=([^}]+)}/.exec(text)?.[1] ?? '?';
}

function stackVersions(): string {
  const text = readFileSync(join(REPO_ROOT, 'e2e/stack/versions.sh'), 'utf8');
  const v = (k: string): string => new RegExp(`${k}:=([^}]+)}`).exec(text)?.[1] ?? '?';
  return `kube-apiserver ${v('K8S_VERSION')}, etcd ${v('ETCD_VERSION')}, Tekton Pipelines CRDs ${v('TEKTON_PIPELINE_VERSION')}, registry: Debian docker-registry`;
}

/** Writes RESULTS.md; includes bench/findings.md (hand-written profiling notes) when present. */
export function writeResults(path: string, rep: Report): void {
  const cpu = cpus();
  const s = rep.sizes;
  // Hand-written notes: findings.md for configs 1-2, findings-transparency.md for the Rekor config,
  // findings-keyless.md for the keyless one.
  const hasRekor = rep.rows.some((x) => x.config === IN_TOTO_TEKTON_REKOR.name);
  const hasKeyless = rep.rows.some((x) => x.config === IN_TOTO_TEKTON_KEYLESS.name);
  const findings = [
    ...(rep.rows.some((x) => !SIGSTORE_CONFIGS.includes(x.config) && !isOwnTableRow(x)) ? ['findings.md'] : []),
    ...(hasRekor ? ['findings-transparency.md'] : []),
    ...(hasKeyless ? ['findings-keyless.md'] : []),
    ...(rep.rows.some(isPoliciesRow) ? ['findings-policies.md'] : []),
  ]
    .map((name) => join(REPO_ROOT, 'bench', name))
    .filter((file) => existsSync(file));
  const lines = [
    '# Benchmark: chainsmith side by side with Tekton Chains',
    '',
    `Generated by \`npm run bench${rep.argv.length ? ' -- ' + rep.argv.join(' ') : ''}\` on ${rep.finished.toISOString()} ` +
      `(${((rep.finished.getTime() - rep.started.getTime()) / 60_000).toFixed(1)} min). Mode: **${rep.quick ? 'quick' : 'full'}** ` +
      `(burst ${s.burst} TaskRuns; backlog ${s.backlog} runs + ${s.backlogNewRuns} new at 1/s; ${s.pipelines} PipelineRuns × 5 TaskRuns; ` +
      `each workload bounded at ${s.timeoutMs / 60_000} min). Single run, not a median of repeats: treat differences under ~20 % as noise.`,
    '',
    ...table(rep.rows),
    '',
    ...(rep.rows.some((x) => x.result?.replicas) ? ['## Replicas (issue 23)', '', ...replicasTable(rep.rows), ''] : []),
    ...(rep.rows.some((x) => x.result?.policies)
      ? ['## Signing policies (issue 24)', '', ...policiesTable(rep.rows), '']
      : []),
    '## Targets',
    '',
    ...targets(rep.rows),
    '',
    ratioLine(rep.rows),
    '',
    '## Arms',
    '',
    ...Object.values(ARMS).map((a) => `- **${a.name}**: ${a.describe}`),
    '',
    '## Method',
    '',
    '- One arm after the other, each on a fresh stack (new etcd data dir) started by `e2e/stack/up.sh` in a private `STACK_DIR`; the controller is restarted for each workload, so CPU and peak RSS are per workload.',
    '- Same key for every arm: ECDSA P-256 `x509.pem` in `/etc/signing-secrets` (Chains reads that fixed path; chainsmith gets `--signing-secrets-dir /etc/signing-secrets`). Same `chains-config`; `transparency.enabled=false` except in the Rekor and keyless configs (the keyless config reads no key).',
    '- Config `in-toto + tekton`: `artifacts.{taskrun,pipelinerun}.format=in-toto`, `storage=tekton`, and `artifacts.oci.storage=""` (image signing off for every arm, so this config measures the provenance path with no registry traffic). Config `slsa/v2alpha4 + oci`: formats `slsa/v2alpha4`, storage `oci` for TaskRuns, PipelineRuns and images, pushed to the local registry (one real image per run).',
    ...(hasRekor || hasKeyless
      ? [
          `- Config \`${IN_TOTO_TEKTON_REKOR.name}\`: config \`in-toto + tekton\` plus \`transparency.enabled=true\` and \`transparency.url\` = the stack's own Rekor v1 (\`e2e/stack/addons/rekor-up.sh\`: rekor-server ${rekorVersions()} on a fresh MariaDB, tree and key per arm; the Trillian signer sequences every 100 ms). Image signing is off, so a signer uploads one attestation entry per run: Chains ${CHAINS_VERSION} \`intoto\` 0.0.1, chainsmith ${process.env.BENCH_ATTESTATION_ENTRY ? `\`${process.env.BENCH_ATTESTATION_ENTRY}\` 0.0.1 (\`chainsmith.transparency.attestation-entry\`, from BENCH_ATTESTATION_ENTRY)` : '`dsse` 0.0.1 (its default; `chainsmith.transparency.attestation-entry` unset)'}, the ceiling the same kind as chainsmith.`,
          ...(process.env.BENCH_REKOR_DELAY_MS
            ? [
                `- **Experiment:** the arms reached Rekor through a proxy in the harness that held every request ${process.env.BENCH_REKOR_DELAY_MS} ms (\`BENCH_REKOR_DELAY_MS\`), like a distant public log.`,
              ]
            : []),
          "- Rekor req/run: the `completed request` lines of rekor-server's log over the measured part (the harness's own tree-size reads excluded) ÷ runs signed, by method, path and status in the notes, with rekor-server's own latency of the entry POSTs; in brackets the entries the log grew by (tree size, exact) ÷ runs; and the CPU of rekor-server + Trillian + MariaDB per run. Under the heaviest load rekor-server's request log has missed a few percent of the requests (fewer POST lines than new entries; the notes say so when it happens).",
          ...(hasKeyless
            ? [
                `- Config \`${IN_TOTO_TEKTON_KEYLESS.name}\`: config \`${IN_TOTO_TEKTON_REKOR.name}\` signed keylessly, the same Fulcio and Rekor for every arm: \`signers.x509.fulcio.enabled=true\`, \`signers.x509.fulcio.address\` = the stack's Fulcio ${fulcioVersion()} (\`e2e/stack/addons/fulcio-up.sh\`, run after the Rekor add-on on each fresh stack: a file CA, the stack's kube-apiserver as its one \`kubernetes\` OIDC issuer, no CT log), \`signers.x509.fulcio.issuer\` = that issuer, \`signers.x509.identity.token.file\` = a TokenRequest token (audience \`sigstore\`, 1 h) of the ServiceAccount \`tekton-chains/tekton-chains-controller\`, written before the arm starts (what a projected token volume holds). No \`signing-secrets\` are read. Chains ${CHAINS_VERSION} builds its signer, and so asks Fulcio for a certificate, once per run (\`allSigners\` in every \`Sign\`); chainsmith once per signed object (one per run here) or, for the \`chainsmith-reuse\` arm (\`chainsmith.keyless.reuse-certificate: "true"\`), once per ~8 minutes. The keyless ceiling asks for one certificate per run with chainsmith's own \`KeylessSigner\`.`,
                "- Fulcio req/run: the delta of Fulcio's own `http_requests_total` (all HTTP requests it answered, by method and code in the notes) over the measured part ÷ runs signed, from its Prometheus endpoint (its port is picked per stack, so it is this stack's Fulcio; nothing but the arm talks to it); in brackets `fulcio_new_certs` ÷ runs; the latency column is the mean of `fulcio_api_latency` (Fulcio's own time per request); the notes add the bucket bounds of its p50/p95 and Fulcio's CPU per run.",
              ]
            : []),
          "- The Rekor ceiling arm signs a ~3 kB in-toto statement per run for real (chainsmith's signer and DSSE code), uploads it with chainsmith's `RekorClient` with up to 64 uploads in flight (unbounded, a burst of 1,000 exhausts the stack's MariaDB connections and Rekor answers 500), then writes the annotations and `signed: \"true\"` in one merge patch: the least any signer that logs its attestations must cost this Rekor and API server.",
        ]
      : []),
    '- Readiness: the arm must sign a canary TaskRun before the clock starts (Chains has no readiness endpoint). Burst/pipelines: the clock starts when the harness begins completing runs (concurrent merge patches of `/status`); a run\'s completion time is when its patch was answered, its signed time is when the harness\'s watch first saw `chains.tekton.dev/signed: "true"`. Runs/s = signed runs ÷ (last signature − first completion).',
    "- Backlog: the completed unsigned runs exist before the arm starts; once it signs the first one, one new TaskRun completes per second; runs/s is the backlog's drain rate and the latency columns are the new runs'.",
    "- CPU s/run: utime+stime (children included) from `/proc/<pid>/stat` of the arm's process over the measured part ÷ runs signed. Peak RSS: `VmHWM` of that process.",
    "- API req/run: the delta of the API server's `apiserver_request_total` (resource requests only; `/metrics`, `/readyz` excluded) over the measured part, minus the requests the harness itself sent (counted client-side; a watch counts once), ÷ runs signed. The API server's own background requests are included (a few per minute).",
    '- The ceiling arm (`bench/arms/ceiling-worker.ts`) watches runs and writes, per finished run, one merge patch with payload- and signature-sized annotations and `signed: "true"`, at unbounded concurrency: what any signer that writes annotations must at least cost on this API server. For `slsa/v2alpha4 + oci` it instead pushes, per run, a `.sig` and an `.att` tag in cosign\'s layout blind (two blob uploads and the manifest PUT per tag, no reads) and then patches `signed: "true"`: the least any signer that stores in the registry must cost. A signer that appends to existing tags, as Chains and chainsmith do, also reads each tag first.',
    "- Notes column, every config: kube-apiserver + etcd CPU s/run (their utime+stime over the measured part ÷ runs signed) and how busy the machine's CPUs were over it (`/proc/stat`; *nice* is low-priority work of other users, such as builds), to tell a slow arm from a full machine.",
    ...(rep.rows.some(isReplicaRow)
      ? [
          "- Replicas configs (issue 23, workload `replicas`): on one stack, the burst is signed by 1, then 2, then 3 chainsmith replicas (the chainsmith arm's process each, `--lease-name chainsmith-r<count>`), all with `buckets: \"3\"` in `tekton-chains-config-leader-election` and the default Lease timings, each count in a namespace of its own with the same number of runs. The clock starts once every replica's `/readyz` reports its fair share of the buckets and a canary is signed. CPU s/run sums utime+stime of every replica over the measured part. API writes/run: POST, PUT, PATCH and DELETE in `apiserver_request_total` over the measured part (the harness's `/status` patches excluded), ÷ runs signed. Lease req: every verb on `leases` as the API server counts it; by verb, the delta of the replicas' own `chainsmith_lease_requests_total`; over the burst, and over 20 s after it with no runs (idle: Lease traffic does not depend on the run rate, and a burst of a few seconds does not see every renewal). Ratios are to the 1-replica arm of the same config in the same run.",
        ]
      : []),
    ...(rep.rows.some(isPoliciesRow)
      ? [
          "- Signing-policies config (issue 24, workload `policies`): config `in-toto + tekton` with the burst spread round-robin over 20 namespaces, every run labelled `team: builds`, signed twice on one stack by a fresh chainsmith each time (all namespaces watched, the bench's usual flags): **single-config**, in 20 namespaces without any SigningPolicy (chains-config and the cluster key), then **20×20 policies** (the other way round with `BENCH_POLICIES_FIRST=1`), in 20 other namespaces with 20 SigningPolicies each: 19 with `matchLabels: {team: other-<j>}` (no run of the burst) and `match` with `matchLabels: {team: builds}` (every run), each with its own `builderId`, all naming the namespace's Secret `<namespace>-signing` in the controller's namespace (an ECDSA P-256 `x509.pem` the harness generates: 20 distinct tenant keys) and one SigningPolicyGrant per namespace granting it. So every run is resolved among 20 candidates and signed with its tenant key, read through the API (re-read at most every 30 s). Before the clock: the controller logged `watching SigningPolicies`, all 400 policies are `Ready=True` for their generation, one canary per namespace is signed (so each namespace's key is loaded in both arms), and the controller's finalizer is on every run of the burst (it adds it to running runs when it starts; without this wait those patches fell into the single-config arm's measured part, whose clock starts sooner). After it, every signed run is checked from the annotations the harness's watch saw: in the policies arm `chainsmith.dev/policy-signer: secret/<namespace>-signing` and `chainsmith.dev/signing-policy: match`, the envelope verifies with that tenant key (and not the cluster's) and names the policy's builder id; in the single-config arm no policy annotation and the cluster key. Any mismatch fails the arm. API writes/run: POST, PUT, PATCH, DELETE (`/status` patches excluded); Secret GETs/run: `GET secrets` over the measured part. Ratios are to the single-config arm of the same run.",
        ]
      : []),
    "- Everything (etcd, kube-apiserver, registry, the harness, the arm) shares this machine's cores; other processes on the machine add noise.",
    ...(process.env.BENCH_CHAINSMITH_MAIN
      ? [
          `- chainsmith ran from \`${process.env.BENCH_CHAINSMITH_MAIN}\` (BENCH_CHAINSMITH_MAIN), not from this checkout's \`dist/\`.`,
        ]
      : []),
    ...(process.env.BENCH_CHAINSMITH_ARGS
      ? [
          `- **Experiment:** chainsmith ran with extra flags \`${process.env.BENCH_CHAINSMITH_ARGS}\` (BENCH_CHAINSMITH_ARGS).`,
        ]
      : []),
    '',
    '## Machine and versions',
    '',
    `- ${cpu.length} CPUs (\`nproc\`), ${cpu[0]?.model ?? '?'}; ${(totalmem() / 2 ** 30).toFixed(1)} GiB memory; Linux ${release()}`,
    `- Tekton Chains ${CHAINS_VERSION} (built by \`bench/build-chains.sh\` from the Go module proxy, the release chainsmith's format goldens come from)`,
    `- chainsmith ${ARMS.chainsmith.version} (compiled \`dist/\`), Node.js ${process.version}`,
    `- ${stackVersions()}${hasRekor || hasKeyless ? `; Rekor ${rekorVersions()} with MariaDB (Debian)` : ''}${hasKeyless ? `; Fulcio ${fulcioVersion()} (file CA, no CT log)` : ''}`,
    `- Controller logs of this run: \`${rep.logDir}\``,
    '',
    '## Reproduce',
    '',
    '```',
    'bash bench/build-chains.sh   # once: builds Tekton Chains into ~/.cache/chainsmith/bin',
    'npm run bench                # full: about 1.5-2 h on 2 cores, mostly Chains at its defaults',
    'npm run bench -- --quick     # short version, well under 20 min',
    'npm run bench -- --quick --configs 3 --out bench/RESULTS-transparency.md   # the Rekor config alone',
    'npm run bench -- --quick --configs 4 --workloads burst --out bench/RESULTS-keyless.md   # the keyless config alone',
    'npm run bench -- --quick --configs 6 --out bench/RESULTS-replicas.md   # 1, 2 and 3 replicas (buckets)',
    'npm run bench -- --quick --configs 8 --out bench/RESULTS-policies.md   # 20 namespaces × 20 SigningPolicies vs chains-config',
    '# subsets: --arms chainsmith,chains-tuned  --workloads burst  --configs 1|2|3|4|5|6|7|8  --profile (chainsmith --cpu-prof)',
    '```',
    ...findings.flatMap((file) => ['', readFileSync(file, 'utf8').trim()]),
    '',
  ];
  writeFileSync(path, lines.join('\n'));
  // the same table on stdout, before the ratio line
  process.stdout.write(
    table(rep.rows).join('\n') +
      '\n\n' +
      replicasTable(rep.rows).join('\n') +
      '\n\n' +
      policiesTable(rep.rows).join('\n') +
      '\n\n' +
      targets(rep.rows).join('\n') +
      '\n\n',
  );
}
