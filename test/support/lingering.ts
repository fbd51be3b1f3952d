/**
 * For a test file's last after(): if the file's process is still alive some seconds after its teardown,
 * something it opened was never closed; print what (the runner would otherwise only say the file timed out).
 * The timer is unref'd, so it never keeps the process alive itself.
 */
export function reportLingeringHandles(file: string, ms = 10_000): void {
  setTimeout(() => {
    process.stderr.write(`${file}: still running ${ms} ms after teardown; open: ${JSON.stringify(process.getActiveResourcesInfo())}\n`);
  }, ms).unref();
}
