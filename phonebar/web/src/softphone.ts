// The browser softphone: a JsSIP user agent registered as the agent's web endpoint.
// It only ever answers calls the engine originates to it; hold, transfer, mute and DTMF
// are engine commands, so no re-INVITE is ever sent from here.
import { UA, WebSocketInterface } from "jssip";
import type { RTCSession } from "jssip/lib/RTCSession";
import type { RTCSessionEvent } from "jssip/lib/UA";
import { Observable, type ReadonlyObservable } from "./observable";
import { storeAutoAnswer, storedAutoAnswer } from "./preferences";
import type { SipConfig } from "./types";

/** The header the engine puts on every INVITE it sends to a PhoneBar. */
export const INTERACTION_HEADER = "X-Phones-Interaction";
/** Set by the engine on the leg of a call the agent placed: the click already said yes. */
export const AUTO_ANSWER_HEADER = "X-Phones-Auto-Answer";
const REGISTER_EXPIRES_S = 60;

/** Why registration is not working, specific enough to tell the agent what to do. */
export type SipError =
  | { kind: "auth" }
  | { kind: "unreachable"; url: string }
  | { kind: "config"; detail: string }
  | { kind: "failed"; cause: string };

/** Why the microphone cannot be used. */
export type MicError =
  { kind: "denied" } | { kind: "missing" } | { kind: "insecure" } | { kind: "failed"; detail: string };

export interface SoftphoneState {
  /** Whether the page wants to be registered (the agent's device is not the desk phone). */
  enabled: boolean;
  registered: boolean;
  sipError: SipError | null;
  micError: MicError | null;
  /** An INVITE waiting for Answer or Reject, with its X-Phones-Interaction value. */
  incoming: { interaction: string; answering: boolean } | null;
  /** A call is up on this browser. */
  inCall: boolean;
}

const IDLE: SoftphoneState = {
  enabled: false,
  registered: false,
  sipError: null,
  micError: null,
  incoming: null,
  inCall: false,
};

/** Owns the JsSIP UA, its one session and the remote audio element. */
export class Softphone {
  private readonly stateStore = new Observable<SoftphoneState>(IDLE);
  private readonly autoAnswerStore = new Observable<boolean>(storedAutoAnswer());
  private ua: UA | null = null;
  private session: RTCSession | null = null;
  private micPermission: PermissionStatus | null = null;

  readonly state: ReadonlyObservable<SoftphoneState> = this.stateStore;
  /** Answer every valid INVITE at once (a per-browser setting). */
  readonly autoAnswer: ReadonlyObservable<boolean> = this.autoAnswerStore;

  constructor(
    private readonly sip: SipConfig,
    private readonly remoteAudio: HTMLAudioElement,
    /** Turn off echo cancellation, noise suppression and gain control (`?audio=raw`). */
    private readonly rawAudio: boolean,
  ) {}

  /** Registers (device auto/browser) or unregisters (device phone). */
  setEnabled(enabled: boolean): void {
    if (enabled === this.stateStore.get().enabled) return;
    this.patch({ enabled });
    if (enabled) this.start();
    // A call in progress keeps its media; the UA stops when that call ends.
    else if (!this.session) this.stop();
  }

  setAutoAnswer(on: boolean): void {
    storeAutoAnswer(on);
    this.autoAnswerStore.set(on);
    if (on) this.answer();
  }

  /** Answers the waiting INVITE, if any. */
  answer(): void {
    const session = this.session;
    const incoming = this.stateStore.get().incoming;
    // A second click (or auto-answer racing a click) must not answer twice.
    if (!session || !incoming || session.status !== session.C.STATUS_WAITING_FOR_ANSWER) return;
    if (!navigator.mediaDevices?.getUserMedia) {
      // Without a secure context there is no getUserMedia at all: fail the offer now.
      this.patch({ micError: { kind: "insecure" } });
      session.terminate({ status_code: 480, reason_phrase: "Microphone Unavailable" });
      return;
    }
    const processing = !this.rawAudio;
    this.patch({ incoming: { ...incoming, answering: true } });
    session.answer({
      mediaConstraints: {
        audio: { echoCancellation: processing, noiseSuppression: processing, autoGainControl: processing },
        video: false,
      },
      // Asterisk is reached directly; host candidates are all the media path needs.
      pcConfig: { iceServers: [] },
    });
  }

  /** Refuses the waiting INVITE with 486, which the engine records as rejected. */
  reject(): void {
    const session = this.session;
    if (session && session.status === session.C.STATUS_WAITING_FOR_ANSWER) {
      session.terminate({ status_code: 486, reason_phrase: "Busy Here" });
    }
  }

  /** The current call's peer connection, for diagnostics and tests. */
  peerConnection(): RTCPeerConnection | null {
    return this.session?.connection ?? null;
  }

  /** Unregisters and drops everything (logout, page unload). */
  shutdown(): void {
    this.patch({ enabled: false });
    this.stop();
    if (this.micPermission) this.micPermission.onchange = null;
  }

  private start(): void {
    if (this.ua) return;
    void this.watchMicPermission();
    let ua: UA;
    try {
      ua = new UA({
        sockets: [new WebSocketInterface(this.sip.ws_url)],
        uri: this.sip.uri,
        authorization_user: this.sip.authorization_user,
        password: this.sip.password,
        display_name: this.sip.display_name,
        register: true,
        register_expires: REGISTER_EXPIRES_S,
        session_timers: false,
        user_agent: "phones-phonebar",
        connection_recovery_min_interval: 1,
        connection_recovery_max_interval: 10,
      });
    } catch (error) {
      this.patch({ sipError: { kind: "config", detail: describe(error) } });
      return;
    }
    ua.on("registered", () => this.patch({ registered: true, sipError: null }));
    ua.on("unregistered", () => this.patch({ registered: false }));
    ua.on("registrationFailed", (event) => {
      this.patch({ registered: false, sipError: registrationError(event.cause, this.sip.ws_url) });
    });
    ua.on("disconnected", () => {
      // JsSIP reconnects and re-registers by itself; meanwhile say why calls cannot arrive.
      if (this.ua === ua) this.patch({ registered: false, sipError: { kind: "unreachable", url: this.sip.ws_url } });
    });
    ua.on("newRTCSession", (event: RTCSessionEvent) => this.onNewSession(event));
    this.ua = ua;
    ua.start();
  }

  private stop(): void {
    const ua = this.ua;
    this.ua = null;
    this.patch({ registered: false, sipError: null, incoming: null, inCall: false });
    if (ua) ua.stop();
  }

  private onNewSession(event: RTCSessionEvent): void {
    if (event.originator !== "remote") return;
    const { session, request } = event;
    // Only the engine rings this endpoint, and always says which interaction it is for.
    if (!request.hasHeader(INTERACTION_HEADER)) {
      session.terminate({ status_code: 486, reason_phrase: "Busy Here" });
      return;
    }
    // Voice is one at a time; the engine never offers a second call on top of a live one.
    if (this.session && !this.session.isEnded()) {
      session.terminate({ status_code: 486, reason_phrase: "Busy Here" });
      return;
    }
    this.session = session;
    this.patch({
      incoming: { interaction: request.getHeader(INTERACTION_HEADER).trim(), answering: false },
      inCall: false,
    });

    session.on("peerconnection", ({ peerconnection }) => {
      peerconnection.addEventListener("track", (track: RTCTrackEvent) => {
        if (track.track.kind === "audio") this.playReceivedAudio(peerconnection);
      });
    });
    session.on("getusermediafailed", (error: unknown) => this.patch({ micError: micError(error) }));
    const established = (): void => {
      if (this.session !== session) return;
      this.patch({ incoming: null, inCall: true, micError: null });
      this.playReceivedAudio(session.connection);
    };
    session.on("accepted", established);
    session.on("confirmed", established);
    const finished = (): void => {
      if (this.session !== session) return;
      this.session = null;
      this.remoteAudio.srcObject = null;
      this.patch({ incoming: null, inCall: false });
      if (!this.stateStore.get().enabled) this.stop();
    };
    session.on("ended", finished);
    session.on("failed", finished);

    const engineAsks =
      request.hasHeader(AUTO_ANSWER_HEADER) && /^(yes|true|1)$/i.test(request.getHeader(AUTO_ANSWER_HEADER).trim());
    if (engineAsks || this.autoAnswerStore.get()) this.answer();
  }

  /** Plays every audio track the peer connection receives. */
  private playReceivedAudio(pc: RTCPeerConnection | null): void {
    if (!pc) return;
    const tracks = pc
      .getReceivers()
      .map((receiver) => receiver.track)
      .filter((track): track is MediaStreamTrack => track?.kind === "audio");
    if (!tracks.length) return;
    const current = this.remoteAudio.srcObject;
    const known = current instanceof MediaStream ? current.getAudioTracks().map((t) => t.id) : [];
    if (tracks.length === known.length && tracks.every((t) => known.includes(t.id))) return;
    this.remoteAudio.srcObject = new MediaStream(tracks);
    // Autoplay can still be refused before any user gesture; the next click or track retries.
    this.remoteAudio.play().catch(() => undefined);
  }

  /** Shows a denied microphone before the first call rather than during it. */
  private async watchMicPermission(): Promise<void> {
    if (!window.isSecureContext || !navigator.mediaDevices) {
      this.patch({ micError: { kind: "insecure" } });
      return;
    }
    if (this.micPermission || !navigator.permissions?.query) return;
    try {
      const status = await navigator.permissions.query({ name: "microphone" as PermissionName });
      this.micPermission = status;
      const apply = (): void => {
        const current = this.stateStore.get().micError;
        if (status.state === "denied") this.patch({ micError: { kind: "denied" } });
        else if (current?.kind === "denied") this.patch({ micError: null });
      };
      status.onchange = apply;
      apply();
    } catch {
      // Browsers without the "microphone" permission name: we learn at answer time.
    }
  }

  private patch(change: Partial<SoftphoneState>): void {
    this.stateStore.update((state) => ({ ...state, ...change }));
  }
}

function registrationError(cause: string | undefined, url: string): SipError {
  if (cause === "Authentication Error") return { kind: "auth" };
  if (cause === "Connection Error" || cause === "Request Timeout") return { kind: "unreachable", url };
  return { kind: "failed", cause: cause ?? "unknown" };
}

function micError(error: unknown): MicError {
  const name = error instanceof Error || error instanceof DOMException ? error.name : "";
  if (name === "NotAllowedError" || name === "SecurityError") return { kind: "denied" };
  if (name === "NotFoundError" || name === "OverconstrainedError") return { kind: "missing" };
  return { kind: "failed", detail: describe(error) };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message || error.name : String(error);
}
