/**
 * A set that keeps only its most recent members: past its capacity, the oldest one added goes.
 * For facts that are only worth remembering for a while (tokens an engine issued, outbox entries
 * a drain applied), where forgetting one costs a little work and never a wrong answer.
 */
export class RecentSet<T> {
  private readonly members = new Set<T>();

  constructor(private readonly capacity: number) {}

  add(member: T): void {
    if (this.members.has(member)) return;
    this.members.add(member);
    if (this.members.size > this.capacity) this.members.delete(this.members.values().next().value as T);
  }

  has(member: T): boolean {
    return this.members.has(member);
  }
}
