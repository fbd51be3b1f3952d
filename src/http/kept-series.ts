/**
 * prom-client checks and hashes the labels on every `inc`/`observe` call. On paths answered thousands of
 * times a second (OCSP from cache) that is a measurable share; a series' labelled child, made once and kept
 * by a key, skips it. Keys come from route templates, CA ids and status names, so the map stays small.
 */
export class KeptSeries<C> {
  private readonly kept = new Map<string, C>();

  get(key: string, make: () => C): C {
    let child = this.kept.get(key);
    if (!child) {
      child = make();
      this.kept.set(key, child);
    }
    return child;
  }
}
