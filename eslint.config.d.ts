// Types for the test of the layer rule (test/lint/layers.test.ts), which imports the ESLint config.
import type { Linter } from 'eslint';

export declare const LAYERS: readonly string[];
export declare function layerRule(layer: string): Linter.RuleEntry;
declare const config: Linter.Config[];
export default config;
