// Decompression limits: the defence against zip bombs (deflate reaches ~1000:1 per layer, nesting
// multiplies it, overlapping zip members multiply it again). Every decompressed byte is counted against
// a ratio limit per stream and a total per top-level input, so neither a single dense member nor a
// thousand overlapping ones can make the scan read more than the user allowed.
import { ProcessingError } from '../util/errors.ts';

export interface ScanLimits {
  /** Largest decompressed/compressed ratio of one gzip stream, zip member or whole zip. Default 200. */
  maxCompressionRatio: number;
  /** Most bytes decompressed from one top-level input, all layers together. Default 16 GiB. */
  maxExpandedBytes: number;
  /** Deepest archive nesting (an archive inside an archive is depth 2). Default 8. */
  maxArchiveDepth: number;
  /** Most members in one archive. Default 100 000. */
  maxArchiveEntries: number;
}

export const DEFAULT_LIMITS: Readonly<ScanLimits> = {
  maxCompressionRatio: 200,
  maxExpandedBytes: 16 * 1024 ** 3,
  maxArchiveDepth: 8,
  maxArchiveEntries: 100_000,
};

/** Below this many decompressed bytes a high ratio is harmless (and common for tiny files). */
export const RATIO_FLOOR_BYTES = 8 * 1024 * 1024;

/** A limit was exceeded. `wholeInput`: the rest of the top-level input is abandoned, not just a member. */
export class LimitError extends ProcessingError {
  readonly wholeInput: boolean;
  /** What hit the limit: a stream, a member or an archive. */
  readonly subject: string;
  constructor(code: string, message: string, wholeInput: boolean, subject = '') {
    super(code, message);
    this.name = 'LimitError';
    this.wholeInput = wholeInput;
    this.subject = subject;
  }
}

/** Shared by every layer of one top-level input. */
export interface ExpansionBudget {
  expanded: number;
  readonly limits: ScanLimits;
}

export function createBudget(limits: ScanLimits): ExpansionBudget {
  return { expanded: 0, limits };
}

/**
 * Counts one compressed stream's input and output; throws LimitError as soon as a limit is passed.
 * A zip member's guard has the whole zip's guard as parent, so that overlapping members that are each
 * modest still add up to a ratio the archive as a whole cannot have.
 */
export class RatioGuard {
  private compressedBytes = 0;
  private expandedBytes = 0;
  private readonly budget: ExpansionBudget;
  private readonly what: string;
  private readonly parent: RatioGuard | undefined;

  constructor(budget: ExpansionBudget, what: string, parent?: RatioGuard) {
    this.budget = budget;
    this.what = what;
    this.parent = parent;
  }

  compressed(n: number): void {
    this.compressedBytes += n;
  }

  expanded(n: number): void {
    this.budget.expanded += n;
    const { maxExpandedBytes } = this.budget.limits;
    if (this.budget.expanded > maxExpandedBytes) {
      throw new LimitError(
        'ERR_LIMIT_SIZE',
        `${this.what} expands past ${maxExpandedBytes} bytes in total (possible zip bomb; raise limits.maxExpandedBytes if it is genuine)`,
        true,
        this.what,
      );
    }
    this.checkRatio(n);
  }

  private checkRatio(n: number): void {
    this.expandedBytes += n;
    const { maxCompressionRatio } = this.budget.limits;
    if (
      this.expandedBytes > RATIO_FLOOR_BYTES &&
      this.expandedBytes > maxCompressionRatio * Math.max(1, this.compressedBytes)
    ) {
      throw new LimitError(
        'ERR_LIMIT_RATIO',
        `${this.what} expands more than ${maxCompressionRatio}:1 (possible zip bomb; raise limits.maxCompressionRatio if it is genuine)`,
        false,
        this.what,
      );
    }
    this.parent?.checkRatio(n);
  }
}

/** Checks a zip member's declared sizes before anything is inflated. */
export function checkDeclaredRatio(
  limits: ScanLimits,
  what: string,
  compressed: number,
  uncompressed: number,
): void {
  if (
    uncompressed > RATIO_FLOOR_BYTES &&
    uncompressed > limits.maxCompressionRatio * Math.max(1, compressed)
  ) {
    throw new LimitError(
      'ERR_LIMIT_RATIO',
      `${what} declares ${uncompressed} bytes from ${compressed} (more than ${limits.maxCompressionRatio}:1; possible zip bomb; raise limits.maxCompressionRatio if it is genuine)`,
      false,
    );
  }
}
