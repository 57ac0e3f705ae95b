// Shared helpers for the format tests: load fixtures, build configs, decode payloads.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CONFIG } from '../../src/config/parse.js';
import type { BuildType, ChainsConfig } from '../../src/config/types.js';
import type { PipelineRun, TaskRun } from '../../src/tekton/types.js';
import type { FormatInput, Payload } from '../../src/formats/types.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures/formats/', import.meta.url));

/** A fixture file parsed as JSON (a fresh copy each call, so tests cannot leak mutations). */
export function fixture<T = unknown>(name: string): T {
  return JSON.parse(readFileSync(FIXTURES + name, 'utf8')) as T;
}

/** A fixture's raw text. */
export function fixtureText(name: string): string {
  return readFileSync(FIXTURES + name, 'utf8');
}

export function taskRunInput(name: string): FormatInput {
  return { kind: 'TaskRun', run: fixture<TaskRun>(name) };
}

export function pipelineRunInput(name: string, children: string[]): FormatInput {
  return {
    kind: 'PipelineRun',
    run: { run: fixture<PipelineRun>(name), children: children.map((c) => fixture<TaskRun>(c)) },
  };
}

/** DEFAULT_CONFIG with the fields the formats read overridden. */
export function config(
  opts: { builderId?: string; buildType?: BuildType; deepInspection?: boolean } = {},
): ChainsConfig {
  const c = structuredClone(DEFAULT_CONFIG);
  if (opts.builderId !== undefined) c.builder.id = opts.builderId;
  if (opts.buildType !== undefined) c.buildDefinition.buildType = opts.buildType;
  if (opts.deepInspection !== undefined) c.artifacts.pipelinerun.deepInspection = opts.deepInspection;
  return c;
}

// `any` on purpose: statements are free-form JSON and the tests index deep into them.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

/** The payload bytes parsed back into JSON. */
export function statementOf(p: Payload): Json {
  return JSON.parse(p.bytes.toString('utf8'));
}

/** base64 → the text it encodes. */
export function unbase64(s: string): string {
  return Buffer.from(s, 'base64').toString('utf8');
}

export const T1 = 'd4b63d3e24d6eef04a6dc0795cf8a73470688803d97c52cffa3c8d4efd3397b6';
export const T2 = '4d6dd704ef58cb214dd826519929e92a978a57cdee43693006139c0080fd6fac';
export const T3 = 'f1a8b8549c179f41e27ff3db0fe1a1793e4b109da46586501a8343637b1d0478';
export const IMG = '827521c857fdcd4374f4da5442fbae2edb01e7fbae285c3ec15673d4c1daecb7';
export const IMG4 = 'd31cc8328054de2bd93735f9cbf0ccfb6e0ee8f4c4225da7d8f8cb3900eaf466';
