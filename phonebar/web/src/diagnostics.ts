// `window.phonebar`: what tests and support staff read from the browser console.
import type { View } from "./types";
import type { Workstation } from "./workstation";

export interface PhoneBarDiagnostics {
  readonly registered: boolean;
  pc(): RTCPeerConnection | null;
  view(): View | null;
}

declare global {
  interface Window {
    phonebar: PhoneBarDiagnostics;
  }
}

/** Installs `window.phonebar`, reading whichever workstation is current at each access. */
export function exposeDiagnostics(current: () => Workstation | null): void {
  // Getters rather than copied values, so the object is never stale.
  window.phonebar = {
    get registered(): boolean {
      return current()?.softphone.state.get().registered ?? false;
    },
    pc: () => current()?.softphone.peerConnection() ?? null,
    view: () => current()?.view() ?? null,
  };
}
