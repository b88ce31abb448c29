// A value that notifies subscribers when it changes: the one way state flows from the
// hub, the softphone and the stores into the components (no framework-specific store).

export type Listener<T> = (value: T) => void;

/** A readable, subscribable value. */
export interface ReadonlyObservable<T> {
  get(): T;
  /** Calls `listener` on every change (not immediately); returns the unsubscribe function. */
  subscribe(listener: Listener<T>): () => void;
}

/** A value holder with change notification. */
export class Observable<T> implements ReadonlyObservable<T> {
  private value: T;
  private readonly listeners = new Set<Listener<T>>();

  constructor(initial: T) {
    this.value = initial;
  }

  get(): T {
    return this.value;
  }

  set(value: T): void {
    if (Object.is(value, this.value)) return;
    this.value = value;
    // Copy first: a listener may unsubscribe itself while we iterate.
    for (const listener of [...this.listeners]) listener(value);
  }

  update(change: (current: T) => T): void {
    this.set(change(this.value));
  }

  subscribe(listener: Listener<T>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
