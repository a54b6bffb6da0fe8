/** What `alirefund doctor` reports, and the shape every check has: it runs against the environment and notes findings. */

export type Severity = 'error' | 'warning' | 'info' | 'ok';

export interface Finding {
  /** What was checked: partner, key, config, notify_url, gateway, charset. */
  check: string;
  /** Stable code, e.g. NOTIFY_URL_BOM. */
  code: string;
  severity: Severity;
  message: string;
  fix: string;
}

/** Notes one finding of a check: its stable code, severity, what was found and the fix (`none` when fine). */
export type Note = (code: string, severity: Severity, message: string, fix?: string) => void;

/** The findings so far, in the order they were noted. */
export class Findings {
  readonly list: Finding[] = [];

  /** The recorder of the findings of `check`. */
  note(check: string): Note {
    return (code, severity, message, fix = 'none') => {
      this.list.push({ check, code, severity, message, fix });
    };
  }

  some(test: (f: Finding) => boolean): boolean {
    return this.list.some(test);
  }
}

/** What the checks run against. */
export interface DoctorContext {
  env: Record<string, string | undefined>;
  timeoutMs: number;
  fetch: typeof fetch;
}

/**
 * One check of the doctor: run in order after the checks before it, unless `when` (given the findings so far)
 * says its preconditions failed.
 */
export interface DoctorCheck {
  when?(found: Findings): boolean;
  run(ctx: DoctorContext, found: Findings): void | Promise<void>;
}
