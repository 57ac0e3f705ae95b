// Differential test against Tekton Chains itself: chains-vectors/chains-output.json is what Chains' own Go code
// (tektoncd/chains e44b60fe: ExtractOCIImagesFromResults, extract.SubjectDigests, v2alpha4 SubjectDigests,
// material.TaskMaterials / PipelineMaterials / FromStepActionsResults) extracted from the cases of
// chains-vectors/cases.ts — the run fixtures plus 360 seeded random runs full of valid and broken hints.
// Chains' subject order is random (Go maps), so subjects and images are compared sorted; materials exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { extractArtifacts } from '../../src/artifacts/index.js';
import { extractOciImages } from '../../src/artifacts/images.js';
import { stepActionInputs, taskRunMaterials } from '../../src/artifacts/materials.js';
import { subjectsV02, subjectsV2alpha4 } from '../../src/artifacts/subjects.js';
import type { Material, Subject } from '../../src/artifacts/types.js';
import type { TaskRun } from '../../src/tekton/types.js';
import { buildCases } from './chains-vectors/cases.js';

interface ChainsOutput {
  id: string;
  images?: string[];
  subjectsV02: Subject[];
  subjectsV2alpha4: Subject[];
  materials: Material[];
  materialsError?: boolean;
  stepActionInputs?: Material[];
  deepSubjectsV02?: Subject[];
  deepSubjectsV2alpha4?: Subject[];
  deepMaterials?: Material[];
}

const chains = new Map(
  (
    JSON.parse(readFileSync(new URL('./chains-vectors/chains-output.json', import.meta.url), 'utf8')) as ChainsOutput[]
  ).map((o) => [o.id, o]),
);
const cases = buildCases();

/** Sorted like the Go side: by the JSON of each subject with its digest keys sorted (Go marshals maps sorted). */
function sorted(subjects: Subject[]): Subject[] {
  const canon = (s: Subject) =>
    JSON.stringify({
      name: s.name,
      digest: Object.fromEntries(Object.entries(s.digest).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    });
  return subjects
    .map(canon)
    .sort()
    .map((s) => JSON.parse(s) as Subject);
}

function plain(materials: Material[]): Material[] {
  return materials.map((m) => ({ uri: m.uri, digest: m.digest }));
}

test('the cases and the recorded Chains output belong together', () => {
  assert.ok(cases.length >= 370);
  assert.deepEqual(
    cases.map((c) => c.id).filter((id) => !chains.has(id)),
    [],
    'regenerate chains-output.json (README.md) after changing cases.ts',
  );
});

test('TaskRuns: images, v0.2 and v2alpha4 subjects, materials and StepAction inputs equal what Chains extracts', () => {
  let compared = 0;
  let withImages = 0;
  for (const c of cases.filter((x) => x.kind === 'TaskRun')) {
    const want = chains.get(c.id)!;
    const tr = c.run as TaskRun;
    const results = tr.status?.results ?? [];
    const images = extractOciImages(results)
      .images.map((i) => `${i.repository}@${i.digest}`)
      .sort();
    assert.deepEqual(images, want.images ?? [], `${c.id}: images`);
    assert.deepEqual(sorted(subjectsV02(results)), want.subjectsV02, `${c.id}: v0.2 subjects`);
    assert.deepEqual(sorted(subjectsV2alpha4(tr)), want.subjectsV2alpha4, `${c.id}: v2alpha4 subjects`);
    let mats: Material[] | 'error';
    try {
      mats = plain(taskRunMaterials(tr));
    } catch {
      mats = 'error';
    }
    if (want.materialsError) assert.equal(mats, 'error', `${c.id}: Chains fails materials on a malformed imageID`);
    else assert.deepEqual(mats, want.materials, `${c.id}: materials`);
    assert.deepEqual(plain(stepActionInputs(tr)), want.stepActionInputs ?? [], `${c.id}: StepAction inputs`);
    compared++;
    if (images.length > 0) withImages++;
  }
  assert.ok(compared >= 300 && withImages >= 50, `${compared} TaskRuns compared, ${withImages} with images`);
});

test('PipelineRuns: subjects and materials, with and without deep inspection, equal what Chains extracts', () => {
  let compared = 0;
  for (const c of cases.filter((x) => x.kind === 'PipelineRun')) {
    const want = chains.get(c.id)!;
    const input = { kind: 'PipelineRun' as const, run: { run: c.run as never, children: c.children ?? [] } };
    const v02 = extractArtifacts(input, 'in-toto', { deepInspection: false });
    const v02deep = extractArtifacts(input, 'in-toto', { deepInspection: true });
    assert.deepEqual(sorted(v02.subjects), want.subjectsV02, `${c.id}: v0.2 subjects`);
    assert.deepEqual(sorted(v02deep.subjects), want.deepSubjectsV02 ?? [], `${c.id}: v0.2 subjects, deep`);
    assert.deepEqual(
      sorted(extractArtifacts(input, 'slsa/v2alpha4', { deepInspection: false }).subjects),
      want.subjectsV2alpha4,
      `${c.id}: v2alpha4 subjects`,
    );
    assert.deepEqual(
      sorted(extractArtifacts(input, 'slsa/v2alpha4', { deepInspection: true }).subjects),
      want.deepSubjectsV2alpha4 ?? [],
      `${c.id}: v2alpha4 subjects, deep`,
    );
    if (!want.materialsError) {
      assert.deepEqual(plain(v02.materials), want.materials, `${c.id}: materials`);
      assert.deepEqual(plain(v02deep.materials), want.deepMaterials ?? [], `${c.id}: materials, deep`);
    }
    compared++;
  }
  assert.ok(compared >= 60, `${compared} PipelineRuns compared`);
});
