// Start-up leaves garbage: the pages of the initial list (a few MB of JSON each) are parsed, summarised and
// dropped, but V8 keeps the heap it grew for them. One full collection after the informers have synced hands
// that memory back, so steady-state RSS reflects the run cache rather than the start-up burst.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | undefined;

/** Runs a full garbage collection (exposing `gc` once if the process was not started with --expose-gc). */
export function collectGarbage(): void {
  if (!gc) {
    const existing = (globalThis as { gc?: () => void }).gc;
    if (existing) gc = existing;
    else {
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as () => void;
    }
  }
  gc();
}
