// The engine commands of docs/phonebar.md, one typed function each. They only ask; the
// outcome always comes back as a new view over the hub.
import type { ApiClient } from "./api";
import type { Callback, CallTarget, Config, Device } from "./types";

/** Typed wrappers for every REST command the PhoneBar sends. */
export class Commands {
  constructor(private readonly api: ApiClient) {}

  // Session
  login(tenant: string, username: string, password: string): Promise<{ token: string }> {
    return this.api.post("/auth/login", { tenant, username, password });
  }
  logout(): Promise<unknown> {
    return this.api.post("/auth/logout");
  }
  config(): Promise<Config> {
    return this.api.get("/phonebar/config");
  }

  // Agent
  ready(): Promise<unknown> {
    return this.api.put("/agents/me/state", { state: "ready" });
  }
  notReady(reason: string): Promise<unknown> {
    return this.api.put("/agents/me/state", { state: "not_ready", reason });
  }
  offline(): Promise<unknown> {
    return this.api.put("/agents/me/state", { state: "offline" });
  }
  setDevice(device: Device): Promise<unknown> {
    return this.api.put("/agents/me/device", { device });
  }

  // The current call
  hangup(id: number): Promise<unknown> {
    return this.api.post(`/calls/${id}/hangup`);
  }
  hold(id: number): Promise<unknown> {
    return this.api.post(`/calls/${id}/hold`);
  }
  resume(id: number): Promise<unknown> {
    return this.api.post(`/calls/${id}/resume`);
  }
  mute(id: number, muted: boolean): Promise<unknown> {
    return this.api.post(`/calls/${id}/mute`, { muted });
  }
  dtmf(id: number, digits: string): Promise<unknown> {
    return this.api.post(`/calls/${id}/dtmf`, { digits });
  }
  transfer(id: number, to: CallTarget): Promise<unknown> {
    return this.api.post(`/calls/${id}/transfer`, { to });
  }
  consult(id: number, to: CallTarget): Promise<unknown> {
    return this.api.post(`/calls/${id}/consult`, { to });
  }
  consultStep(id: number, step: "complete" | "cancel" | "swap" | "conference"): Promise<unknown> {
    return this.api.post(`/calls/${id}/consult/${step}`);
  }
  dropParty(id: number, partyId: string): Promise<unknown> {
    return this.api.post(`/calls/${id}/parties/${encodeURIComponent(partyId)}/drop`);
  }

  // Starting work
  call(to: CallTarget): Promise<unknown> {
    return this.api.post("/calls", { to });
  }
  take(interactionId: number): Promise<unknown> {
    return this.api.post(`/queue/${interactionId}/take`);
  }
  disposition(interactionId: number, code: string, notes: string): Promise<unknown> {
    return this.api.post(`/interactions/${interactionId}/disposition`, { code, note: notes || undefined });
  }

  // Callbacks (P7)
  callbacks(): Promise<{ items: Callback[] }> {
    return this.api.get("/callbacks?mine=true");
  }
  callbackCall(id: number): Promise<unknown> {
    return this.api.post(`/callbacks/${id}/call`);
  }
  callbackDone(id: number): Promise<unknown> {
    return this.api.post(`/callbacks/${id}/done`);
  }
}
