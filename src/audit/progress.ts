// Progress on stderr: a redrawn bar on a terminal, a plain line every 10% (or every run, for few) otherwise,
// so logs of a CI job stay readable.

/** A progress reporter for `total` items. */
export function progressReporter(
  stream: NodeJS.WriteStream,
  label: string,
): { update(done: number, total: number, what: string): void; end(): void } {
  const tty = stream.isTTY === true;
  let lastDecile = -1;
  let drawn = false;
  return {
    update(done, total, what) {
      if (tty) {
        const width = 30;
        const filled = total === 0 ? width : Math.round((done / total) * width);
        const line = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${what}`;
        stream.write(
          `\r${line.slice(0, (stream.columns ?? 100) - 1).padEnd(Math.min(100, (stream.columns ?? 100) - 1))}`,
        );
        drawn = true;
        return;
      }
      const decile = Math.floor((done / Math.max(1, total)) * 10);
      if (total <= 20 || decile !== lastDecile || done === total) {
        lastDecile = decile;
        stream.write(`${label}: ${done}/${total} ${what}\n`);
      }
    },
    end() {
      if (tty && drawn) stream.write('\n');
    },
  };
}
