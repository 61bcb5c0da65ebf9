/** Gathers a process function's outputs for one batch, with the timestamp each output carries. */
export class BatchCollector<T = unknown> {
  values: unknown[] = [];
  timestamps: number[] = [];
  /** Timestamp given to outputs of the element (or timer) being processed. */
  currentTimestamp = Number.NEGATIVE_INFINITY;
  private side: Map<string, { values: unknown[]; timestamps: number[] }> | undefined;

  collect(value: T): void {
    this.values.push(value);
    this.timestamps.push(this.currentTimestamp);
  }

  collectSide(tag: string, value: unknown): void {
    this.side ??= new Map();
    let s = this.side.get(tag);
    if (!s) { s = { values: [], timestamps: [] }; this.side.set(tag, s); }
    s.values.push(value);
    s.timestamps.push(this.currentTimestamp);
  }

  /** Hands everything collected to `emit`/`emitSide` and starts afresh. */
  flush(emit: (v: unknown[], t: number[]) => void, emitSide: (tag: string, v: unknown[], t: number[]) => void): void {
    if (this.values.length > 0) {
      const v = this.values, t = this.timestamps;
      this.values = []; this.timestamps = [];
      emit(v, t);
    }
    if (this.side) {
      const side = this.side;
      this.side = undefined;
      for (const [tag, s] of side) emitSide(tag, s.values, s.timestamps);
    }
  }
}
