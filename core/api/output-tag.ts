/** Names a side output, e.g. late data: `new OutputTag<Event>('late')`. */
export class OutputTag<T = unknown> {
  declare readonly __type?: T;
  constructor(readonly id: string) {
    if (!id) throw new Error('OutputTag needs a non-empty id');
  }
}
