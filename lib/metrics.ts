/**
 * A tiny counter/gauge/histogram registry rendered in the Prometheus text exposition format
 * (`GET /metrics`). Labels are plain string maps; a series is created on first use (servers
 * create every known series at 0 up front, so none appears only after its first event).
 */

/** Label names to values, e.g. `{ listener: "register", variant: "D2R_HB" }`. */
export type Labels = Record<string, string>;

/** One labelled value of a metric. */
export interface Series {
  labels: Labels;
  value: number;
}

function seriesKey(labels: Labels | undefined): string {
  if (labels === undefined) return "";
  let key = "";
  for (const name in labels) key += name + "\u0000" + labels[name] + "\u0001";
  return key;
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function formatLabels(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

/** One named metric holding a value per label set. */
abstract class Metric {
  protected readonly series = new Map<string, Series>();
  abstract readonly type: "counter" | "gauge";

  constructor(readonly name: string, readonly help: string) {}

  /** The series for `labels`, created on first use (kept by CounterByPair). */
  seriesFor(labels: Labels | undefined): Series {
    const key = seriesKey(labels);
    let series = this.series.get(key);
    if (series === undefined) {
      series = { labels: { ...labels }, value: 0 };
      this.series.set(key, series);
    }
    return series;
  }

  /** The current value for `labels` (0 when never touched). */
  get(labels?: Labels): number {
    return this.series.get(seriesKey(labels))?.value ?? 0;
  }

  /** Every series as plain data. */
  values(): { labels: Labels; value: number }[] {
    return [...this.series.values()].map((s) => ({ labels: { ...s.labels }, value: s.value }));
  }

  /** The metric in Prometheus text format (HELP, TYPE, one line per series). */
  render(): string {
    let out = `# HELP ${this.name} ${
      this.help.replace(/\n/g, " ")
    }\n# TYPE ${this.name} ${this.type}\n`;
    for (const s of this.series.values()) {
      out += `${this.name}${formatLabels(s.labels)} ${s.value}\n`;
    }
    return out;
  }
}

/** A monotonically increasing count (packets, errors, wakes). */
export class Counter extends Metric {
  readonly type = "counter";

  /** Adds `by` (default 1) to the series for `labels`. */
  inc(labels?: Labels, by = 1): void {
    this.seriesFor(labels).value += by;
  }
}

/**
 * A counter's series keyed by two labels, found with two map lookups instead of a key
 * built per call: for counters bumped on every packet. Series appear on first use.
 */
export class CounterByPair {
  private readonly series = new Map<string, Map<string, Series>>();

  constructor(
    private readonly counter: Counter,
    private readonly first: string,
    private readonly second: string,
  ) {}

  /** Adds 1 to the series `{first: a, second: b}`. */
  inc(a: string, b: string): void {
    let inner = this.series.get(a);
    if (inner === undefined) {
      inner = new Map();
      this.series.set(a, inner);
    }
    let series = inner.get(b);
    if (series === undefined) {
      series = this.counter.seriesFor({ [this.first]: a, [this.second]: b });
      inner.set(b, series);
    }
    series.value++;
  }
}

/** A value that goes up and down (registered cameras). */
export class Gauge extends Metric {
  readonly type = "gauge";

  /** Sets the series for `labels` to `value`. */
  set(value: number, labels?: Labels): void {
    this.seriesFor(labels).value = value;
  }

  /** Drops every series (per-camera gauges are rebuilt from the registry on each scrape). */
  clear(): void {
    this.series.clear();
  }
}

/**
 * A distribution in cumulative buckets (`le` upper bounds, then `+Inf`), with `_sum` and
 * `_count`: for durations such as a wake's confirmation time, in seconds.
 */
export class Histogram {
  readonly type = "histogram";
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(readonly name: string, readonly help: string, readonly buckets: readonly number[]) {
    this.counts = buckets.map(() => 0);
  }

  /** Records one value. */
  observe(value: number): void {
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]) this.counts[i]++;
    this.sum += value;
    this.count++;
  }

  /** How many values were recorded. */
  get observed(): number {
    return this.count;
  }

  /** The histogram in Prometheus text format. */
  render(): string {
    let out = `# HELP ${this.name} ${
      this.help.replace(/\n/g, " ")
    }\n# TYPE ${this.name} histogram\n`;
    this.buckets.forEach((bound, i) => {
      out += `${this.name}_bucket{le="${bound}"} ${this.counts[i]}\n`;
    });
    out += `${this.name}_bucket{le="+Inf"} ${this.count}\n`;
    return out + `${this.name}_sum ${this.sum}\n${this.name}_count ${this.count}\n`;
  }
}

/** The registry of every metric a server exposes; `render()` is the `/metrics` body. */
export class Metrics {
  private readonly metrics = new Map<string, Counter | Gauge | Histogram>();
  private readonly collectors: (() => void)[] = [];

  /** The counter called `name`, created on first use (the same object afterwards). */
  counter(name: string, help: string): Counter {
    return this.get(name, () => new Counter(name, help), Counter);
  }

  /** The gauge called `name`, created on first use (the same object afterwards). */
  gauge(name: string, help: string): Gauge {
    return this.get(name, () => new Gauge(name, help), Gauge);
  }

  /** The histogram called `name` with these bucket bounds, created on first use. */
  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    return this.get(name, () => new Histogram(name, help, buckets), Histogram);
  }

  /**
   * Runs `collect` before every render: for gauges read from state at scrape time (memory,
   * per-camera series) rather than updated on every change.
   */
  collect(collect: () => void): void {
    this.collectors.push(collect);
  }

  private get<M extends Counter | Gauge | Histogram>(
    name: string,
    make: () => M,
    kind: abstract new (...args: never[]) => M,
  ): M {
    const existing = this.metrics.get(name);
    if (existing === undefined) {
      const created = make();
      this.metrics.set(name, created);
      return created;
    }
    if (!(existing instanceof kind)) {
      throw new TypeError(`metric ${name} is already registered as a ${existing.type}`);
    }
    return existing;
  }

  /** All metrics in Prometheus text exposition format, in registration order. */
  render(): string {
    for (const collect of this.collectors) collect();
    return [...this.metrics.values()].map((m) => m.render()).join("");
  }
}
