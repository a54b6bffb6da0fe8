/**
 * Progress of a bulk run: on a TTY, one line redrawn in place (`\r` + erase line) with a bar, records and batches
 * done, failures and the ETA; off a TTY, plain lines (one per event), which logs and CI keep readable.
 */

export interface ProgressCounts {
  recordsDone: number;
  recordsTotal: number;
  batchesDone: number;
  batchesTotal: number;
  failed: number;
}

const CLEAR = '\r\x1b[2K';

/** `m:ss` or `h:mm:ss`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

export class Progress {
  private counts: ProgressCounts = {
    recordsDone: 0,
    recordsTotal: 0,
    batchesDone: 0,
    batchesTotal: 0,
    failed: 0,
  };
  private baseRecords = -1;
  private startedAt: number;
  private lastDraw = 0;
  private drawn = false;
  private status = '';
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly write: (text: string) => void,
    readonly tty: boolean,
    private readonly now: () => number = Date.now,
  ) {
    this.startedAt = now();
    if (tty) {
      this.timer = setInterval(() => this.draw(true), 1000);
      this.timer.unref();
    }
  }

  /** Estimated time left, from the rate since this process started (null until something was done). */
  eta(): number | null {
    const c = this.counts;
    const done = c.recordsDone - Math.max(0, this.baseRecords);
    const elapsed = this.now() - this.startedAt;
    if (done <= 0 || elapsed <= 0) return null;
    return ((c.recordsTotal - c.recordsDone) * elapsed) / done;
  }

  /** New counts (and what is happening now, shown at the end of the bar). */
  update(counts: ProgressCounts, status?: string): void {
    if (this.baseRecords < 0) {
      this.baseRecords = counts.recordsDone;
      this.startedAt = this.now();
    }
    this.counts = { ...counts };
    if (status !== undefined) this.status = status;
    this.draw(false);
  }

  /** The bar line as text (no control characters). */
  barText(width = 24, withStatus = true): string {
    const c = this.counts;
    const ratio = c.recordsTotal === 0 ? 1 : c.recordsDone / c.recordsTotal;
    const full = Math.round(ratio * width);
    const eta = this.eta();
    return (
      `[${'#'.repeat(full)}${'-'.repeat(width - full)}] ${String(Math.floor(ratio * 100)).padStart(3)}% ` +
      `records ${c.recordsDone}/${c.recordsTotal} · batches ${c.batchesDone}/${c.batchesTotal} · failed ${c.failed}` +
      ` · ETA ${eta === null ? '--:--' : formatDuration(eta)}${withStatus && this.status ? ` · ${this.status}` : ''}`
    );
  }

  private draw(force: boolean): void {
    if (!this.tty) return;
    const t = this.now();
    if (!force && t - this.lastDraw < 100) return;
    this.lastDraw = t;
    this.drawn = true;
    this.write(`${CLEAR}${this.barText()}`);
  }

  /** A message: above the bar on a TTY, a plain line otherwise. */
  line(text: string): void {
    if (this.tty) {
      this.write(`${this.drawn ? CLEAR : ''}${text}\n`);
      this.drawn = false;
      this.draw(true);
    } else {
      this.write(`${text}\n`);
    }
  }

  /** A plain progress line off a TTY (on a TTY the bar already shows it). */
  step(text: string): void {
    if (this.tty) this.draw(true);
    else this.write(`${text} — ${this.barText(0, false).replace(/^\[\]\s*/, '')}\n`);
  }

  /** Removes the bar (before the summary is printed). */
  finish(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.tty && this.drawn) this.write(`${CLEAR}${this.barText()}\n`);
    this.drawn = false;
  }
}
