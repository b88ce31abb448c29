// The agent's callback list (P7). It is not part of the view, so it is polled; an engine
// without the callbacks feature answers 404 and the panel stays hidden.
import { ApiError } from "./api";
import type { Commands } from "./commands";
import { attempt, reportError } from "./errors";
import { Observable, type ReadonlyObservable } from "./observable";
import type { Callback } from "./types";

const REFRESH_EVERY_MS = 30_000;

export interface CallbackListState {
  /** False until the engine has answered once, and for good after a 404. */
  available: boolean;
  items: Callback[];
  loading: boolean;
}

/** Fetches and acts on the logged-in agent's callbacks. */
export class CallbackList {
  private readonly store = new Observable<CallbackListState>({ available: false, items: [], loading: false });
  private timer: number | undefined;
  private unsupported = false;

  readonly state: ReadonlyObservable<CallbackListState> = this.store;

  constructor(private readonly commands: Commands) {}

  start(): void {
    void this.refresh();
    this.timer = window.setInterval(() => void this.refresh(), REFRESH_EVERY_MS);
  }

  stop(): void {
    window.clearInterval(this.timer);
  }

  async refresh(): Promise<void> {
    if (this.unsupported) return;
    this.store.update((state) => ({ ...state, loading: true }));
    try {
      const { items } = await this.commands.callbacks();
      this.store.set({ available: true, items: Array.isArray(items) ? items : [], loading: false });
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        this.unsupported = true;
        this.stop();
        this.store.set({ available: false, items: [], loading: false });
        return;
      }
      this.store.update((state) => ({ ...state, loading: false }));
      // A background poll failing is only worth a banner once the panel is in use.
      if (this.store.get().available) reportError(error);
    }
  }

  async callNow(id: number): Promise<void> {
    if (await attempt(() => this.commands.callbackCall(id))) void this.refresh();
  }

  async done(id: number): Promise<void> {
    if (await attempt(() => this.commands.callbackDone(id))) void this.refresh();
  }
}
