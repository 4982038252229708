// Severity order, for "the highest of" and "at least".
import { SEVERITIES, type Severity } from '../model.ts';

const RANK: Readonly<Record<Severity, number>> = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };

export function severityRank(s: Severity): number {
  return RANK[s];
}

/** Negative, zero or positive as `a` is below, equal to or above `b`. */
export function compareSeverity(a: Severity, b: Severity): number {
  return RANK[a] - RANK[b];
}

export function severityOfRank(rank: number): Severity {
  return SEVERITIES[rank]!;
}
