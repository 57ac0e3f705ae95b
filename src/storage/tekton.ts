// Storage backend `tekton` (spec §4.1): the payload, signature, cert and chain as annotations on the run itself,
// exactly as Chains writes them (base64 std padded; cert/chain "" when there is none), so `tkn chain payload`
// and `tkn chain signature` keep working. It makes no API call: it returns the annotations and the controller
// writes them together with the `signed` mark in one patch (Chains makes one GET + apply per store).
import { tektonAnnotationKeys } from '../tekton/annotations.js';
import type { Storer, StoreRequest, StoreResult } from './storer.js';

const b64 = (b: Buffer | string): string => Buffer.from(b).toString('base64');

/** The `tekton` backend. */
export class TektonStorer implements Storer {
  readonly name = 'tekton';

  async store(req: StoreRequest): Promise<StoreResult> {
    const keys = tektonAnnotationKeys(req.shortKey);
    return {
      annotations: {
        [keys.payload]: b64(req.signed.payload),
        [keys.signature]: b64(req.signed.signature),
        [keys.cert]: req.signed.cert ? b64(req.signed.cert) : '',
        [keys.chain]: req.signed.chain ? b64(req.signed.chain) : '',
      },
    };
  }
}
