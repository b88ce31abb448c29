// The page's life cycle: signed out → signing in → a running Workstation → signed out.
// Everything that survives a logout (the API client, the audio element) lives here.
import { ApiClient, ApiError } from "./api";
import { Commands } from "./commands";
import { clearNotices, describeError } from "./errors";
import { applyConfiguredLanguage, t } from "./i18n";
import { Observable, type ReadonlyObservable } from "./observable";
import { storeToken, storedToken } from "./preferences";
import { installShortcuts } from "./shortcuts";
import { Workstation } from "./workstation";

export type Phase =
  { kind: "loading" } | { kind: "login"; message: string | null } | { kind: "ready"; workstation: Workstation };

/** Signs the agent in and out and owns the current Workstation. */
export class AppSession {
  private readonly phaseStore = new Observable<Phase>({ kind: "loading" });
  private readonly commands: Commands;
  private removeShortcuts: (() => void) | null = null;

  readonly phase: ReadonlyObservable<Phase> = this.phaseStore;

  constructor(
    private readonly remoteAudio: HTMLAudioElement,
    private readonly rawAudio: boolean,
  ) {
    this.commands = new Commands(new ApiClient(() => this.sessionLost()));
  }

  /** The running workstation, if signed in. */
  current(): Workstation | null {
    const phase = this.phaseStore.get();
    return phase.kind === "ready" ? phase.workstation : null;
  }

  /** On page load: reuse the tab's token if the engine still accepts it. */
  async boot(): Promise<void> {
    if (!storedToken()) {
      this.phaseStore.set({ kind: "login", message: null });
      return;
    }
    const failure = await this.enter();
    if (failure !== null) this.phaseStore.set({ kind: "login", message: failure || null });
  }

  /** Signs in; resolves to the text to show under the form, or null on success. */
  async login(tenant: string, username: string, password: string): Promise<string | null> {
    try {
      const { token } = await this.commands.login(tenant, username, password);
      storeToken(token);
    } catch (error) {
      return describeError(error);
    }
    const failure = await this.enter();
    return failure === null ? null : failure || t("login.expired");
  }

  /** Goes offline and signs out; stays signed in if the engine refuses (the banner says why). */
  async logout(): Promise<void> {
    const workstation = this.current();
    if (workstation && !(await workstation.logout())) return;
    this.leave(null);
  }

  // Resolves to null when running, "" when the token was refused, or an error text.
  private async enter(): Promise<string | null> {
    this.phaseStore.set({ kind: "loading" });
    try {
      const config = await this.commands.config();
      applyConfiguredLanguage(config.language);
      const workstation = new Workstation(config, this.commands, this.remoteAudio, this.rawAudio, () =>
        this.sessionLost(),
      );
      workstation.start();
      this.removeShortcuts = installShortcuts(workstation);
      this.phaseStore.set({ kind: "ready", workstation });
      return null;
    } catch (error) {
      // Only a refused token is dropped: after a network error a reload may simply retry.
      if (error instanceof ApiError && error.status === 401) {
        storeToken(null);
        return "";
      }
      return describeError(error);
    }
  }

  private sessionLost(): void {
    if (this.phaseStore.get().kind === "ready") this.leave(t("login.expired"));
  }

  private leave(message: string | null): void {
    this.removeShortcuts?.();
    this.removeShortcuts = null;
    this.current()?.stop();
    storeToken(null);
    clearNotices();
    this.phaseStore.set({ kind: "login", message });
  }
}
