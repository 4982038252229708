import { SEVERITIES, type Severity } from '../model.ts';

export function maxSeverityAtLeast(severity: Severity, threshold: string): boolean {
  return SEVERITIES.indexOf(severity) >= SEVERITIES.indexOf(threshold as Severity);
}
