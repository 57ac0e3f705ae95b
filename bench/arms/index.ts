import { ceiling } from './ceiling.js';
import { chainsDefault, chainsTuned } from './chains.js';
import { chainsmith, chainsmithReuse } from './chainsmith.js';
import type { Arm, ArmName } from './types.js';

export const ARMS: Record<ArmName, Arm> = {
  'chains-default': chainsDefault,
  'chains-tuned': chainsTuned,
  chainsmith,
  'chainsmith-reuse': chainsmithReuse,
  ceiling,
};
