// Linear time on any input: every expensive step (decoding a candidate header, parsing a
// candidate JSON object, decoding a base64 run) spends from a budget proportional to the
// input length. When it runs out the scan stops and the record fails closed (R6).

export class Budget {
  #left: number;
  #exceeded = false;
  #spent = 0;

  constructor(inputLength: number, workPerByte: number) {
    this.#left = inputLength * workPerByte + 65536;
  }

  /** Takes `cost` units; false (and exceeded from then on) when there are not enough left. */
  spend(cost: number): boolean {
    if (this.#exceeded) return false;
    this.#left -= cost;
    this.#spent += cost;
    if (this.#left < 0) this.#exceeded = true;
    return !this.#exceeded;
  }

  /** Units spent so far: what tests use to prove the scan linear without timing it. */
  get spent(): number {
    return this.#spent;
  }

  get exceeded(): boolean {
    return this.#exceeded;
  }
}
