// One logged-in PhoneBar: the hub, the softphone and the callback list built from the
// config, plus the agent's actions. Components and shortcuts call these actions so a
// button and its keyboard shortcut can never behave differently.
import { CallbackList } from "./callbacks";
import type { Commands } from "./commands";
import { attempt, reportError } from "./errors";
import { Hub } from "./hub";
import { storedToken } from "./preferences";
import { Softphone } from "./softphone";
import type { Call, CallTarget, Config, Device, View } from "./types";

/** How the Answer/Reject area of a ringing call should look. */
export type AnswerMode =
  /** The INVITE is on this browser: Answer and Reject work. */
  | "browser"
  /** The engine rings the browser but the INVITE has not arrived yet. */
  | "browser-pending"
  /** The desk phone rings; the agent answers there. */
  | "phone";

/** The running workstation of one logged-in agent. */
export class Workstation {
  readonly hub: Hub;
  readonly softphone: Softphone;
  readonly callbacks: CallbackList;
  private readonly unsubscribers: (() => void)[] = [];

  constructor(
    readonly config: Config,
    readonly commands: Commands,
    remoteAudio: HTMLAudioElement,
    rawAudio: boolean,
    /** The engine no longer accepts our token: the app returns to the login screen. */
    onSessionLost: () => void,
  ) {
    this.hub = new Hub(storedToken, () => onSessionLost());
    this.softphone = new Softphone(config.sip, remoteAudio, rawAudio);
    this.callbacks = new CallbackList(commands);
  }

  start(): void {
    this.unsubscribers.push(this.hub.view.subscribe((view) => this.followView(view)));
    this.hub.start();
    this.callbacks.start();
  }

  stop(): void {
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
    this.callbacks.stop();
    this.hub.stop();
    this.softphone.shutdown();
  }

  view(): View | null {
    return this.hub.view.get();
  }

  /** Where a ringing call can be answered, from the view and the softphone together. */
  answerMode(view: View): AnswerMode {
    if (this.softphone.state.get().incoming) return "browser";
    const { device, devices } = view.agent;
    if (device === "phone" || (device === "auto" && !devices.browser)) return "phone";
    return "browser-pending";
  }

  // Agent state

  ready(): void {
    void attempt(() => this.commands.ready());
  }

  notReady(reason?: string): void {
    const chosen = reason ?? this.config.not_ready_reasons[0] ?? "break";
    void attempt(() => this.commands.notReady(chosen));
  }

  setDevice(device: Device): void {
    void attempt(() => this.commands.setDevice(device));
  }

  /** Goes offline, then ends the login; resolves false when the engine refused (e.g. on a call). */
  async logout(): Promise<boolean> {
    try {
      await this.commands.offline();
    } catch (error) {
      reportError(error);
      return false;
    }
    // The token is dropped either way; a failed logout only leaves it to expire.
    await this.commands.logout().catch(() => undefined);
    return true;
  }

  // The current call

  answer(): void {
    this.softphone.answer();
  }

  reject(): void {
    this.softphone.reject();
  }

  /** Hangs up the call, or rejects it while it still rings this browser. */
  hangup(): void {
    const call = this.view()?.call;
    if (!call) return;
    if (call.state === "ringing") {
      this.reject();
      return;
    }
    void attempt(() => this.commands.hangup(call.interaction_id));
  }

  hold(call: Call): void {
    void attempt(() => this.commands.hold(call.interaction_id));
  }

  resume(call: Call): void {
    void attempt(() => this.commands.resume(call.interaction_id));
  }

  toggleMute(call: Call): void {
    void attempt(() => this.commands.mute(call.interaction_id, !call.muted));
  }

  dtmf(call: Call, digits: string): void {
    void attempt(() => this.commands.dtmf(call.interaction_id, digits));
  }

  transfer(call: Call, to: CallTarget): void {
    void attempt(() => this.commands.transfer(call.interaction_id, to));
  }

  consult(call: Call, to: CallTarget): void {
    void attempt(() => this.commands.consult(call.interaction_id, to));
  }

  consultStep(call: Call, step: "complete" | "cancel" | "swap" | "conference"): void {
    void attempt(() => this.commands.consultStep(call.interaction_id, step));
  }

  dropParty(call: Call, partyId: string): void {
    void attempt(() => this.commands.dropParty(call.interaction_id, partyId));
  }

  // Starting work

  placeCall(to: CallTarget): Promise<boolean> {
    return attempt(() => this.commands.call(to));
  }

  take(interactionId: number): void {
    void attempt(() => this.commands.take(interactionId));
  }

  saveDisposition(interactionId: number, code: string, notes: string): Promise<boolean> {
    return attempt(() => this.commands.disposition(interactionId, code, notes));
  }

  /** The engine wants the softphone registered unless the agent chose the desk phone. */
  private followView(view: View | null): void {
    if (view) this.softphone.setEnabled(view.agent.device !== "phone");
  }
}
