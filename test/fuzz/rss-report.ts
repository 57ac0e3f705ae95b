// Preloaded (`--import`) into CLI processes the fuzz suite spawns: writes the process's peak resident memory to
// $FUZZ_RSS_FILE at exit, so a test can bound the memory a hostile input costs without an external `time`.
import { writeFileSync } from 'node:fs';

const file = process.env.FUZZ_RSS_FILE;
if (file) {
  process.on('exit', () => {
    writeFileSync(file, String(process.resourceUsage().maxRSS));
  });
}
