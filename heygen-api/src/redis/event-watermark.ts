/**
 * The highest event id this instance has handed out or heard (docs/design.md, "When Redis loses
 * its data"). After Redis comes back, the instance raises the deployment's event floor
 * (`<prefix>events:floor`) to it: a resume from an id at or below the floor is then taken only if
 * that very event is still in the client's stream, so that an id from before a loss or a
 * rollback gets a snapshot instead of a replay of a sequence it never belonged to.
 */
export class EventWatermark {
  private highest = 0;

  get value(): number {
    return this.highest;
  }

  /** An event id seen: a decimal string (ours), or undefined (none yet). */
  saw(id: string | undefined): void {
    if (id === undefined) return;
    const n = Number(id);
    if (n > this.highest) this.highest = n;
  }
}
