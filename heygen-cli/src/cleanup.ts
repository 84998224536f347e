/** Things to undo at the end of the run, undone in reverse order, each at most once. */
export class Cleanup {
  private readonly steps: Array<() => unknown> = [];
  private running: Promise<void> | undefined;

  defer(step: () => unknown): void {
    this.steps.push(step);
  }

  /** Runs every step even when some fail; safe to call again (Ctrl-C during a normal exit). */
  run(): Promise<void> {
    return (this.running ??= (async () => {
      for (const step of this.steps.reverse()) {
        try {
          await step();
        } catch {
          // Cleaning up must not stop cleaning up.
        }
      }
    })());
  }
}
