// The shapes the engine sends and accepts, as written in docs/phonebar.md.
// Timestamps are ISO 8601 strings in UTC; ids are numbers except party ids.

export type AgentState = "ready" | "not_ready" | "offline" | "ringing" | "busy" | "wrap_up";
export type Device = "auto" | "browser" | "phone";
export type CallState = "ringing" | "dialing" | "connected" | "held";
export type Direction = "inbound" | "outbound" | "internal";
export type Language = "it" | "en";

/** GET /api/v1/phonebar/config: everything the page needs to start. */
export interface Config {
  agent: { id: number; username: string; display_name: string; extension: string | null };
  tenant: { slug: string; name: string };
  language: string;
  sip: SipConfig;
  not_ready_reasons: string[];
  services: ConfigService[];
  grace_s: number;
  /** False when the agent may not call outside numbers; absent means allowed. */
  can_dial_out?: boolean;
}

export interface SipConfig {
  ws_url: string;
  uri: string;
  authorization_user: string;
  password: string;
  display_name: string;
}

export interface ConfigService {
  id: number;
  name: string;
  disposition_codes: string[];
}

/** The hub's `view`: the whole truth for this agent at one moment. */
export interface View {
  /** The engine's clock; docs/phonebar.md puts it here, the engine may send it on the message. */
  now?: string;
  agent: AgentView;
  call: Call | null;
  wrap_up: WrapUp | null;
  queue: QueueItem[];
  /** Filled from the hub's separate `agents` messages (the tenant's directory). */
  agents: DirectoryAgent[];
  services: ServiceRef[];
}

export interface AgentView {
  state: AgentState;
  reason: string | null;
  since: string;
  device: Device;
  devices: { browser: boolean; phone: boolean };
}

export interface Call {
  interaction_id: number;
  direction: Direction;
  state: CallState;
  ani: string;
  dnis: string;
  name: string;
  service: string | null;
  since: string;
  answered_at: string | null;
  muted: boolean;
  recording: boolean;
  parties: Party[];
  consult: Consult | null;
  history: HistoryEntry[];
}

export interface Party {
  id: string;
  kind: "customer" | "agent" | "external";
  label: string;
  state: "ringing" | "connected" | "held";
}

export interface Consult {
  /** The consulted party's leg, when the engine sends it. */
  id?: string;
  label: string;
  state: "ringing" | "connected";
}

export interface HistoryEntry {
  interaction_id: number;
  created_at: string;
  service: string | null;
  agent: string | null;
  direction: Direction;
  end_reason: string | null;
  disposition: string | null;
}

export interface WrapUp {
  interaction_id: number;
  service: string | null;
  until: string | null;
  disposition_codes: string[];
}

export interface QueueItem {
  interaction_id: number;
  service: string;
  ani: string;
  since: string;
}

export interface DirectoryAgent {
  id: number;
  username: string;
  display_name: string;
  extension: string | null;
  state: AgentState;
}

export interface ServiceRef {
  id: number;
  name: string;
}

/** Messages the hub sends. */
export type HubMessage =
  | { type: "view"; seq: number; now?: string; view: View }
  | { type: "agents"; full?: boolean; agents: DirectoryAgent[]; removed?: number[] }
  | { type: "pong" }
  | { type: "error"; error: string };

/** Where a call, transfer or consult goes: exactly one key is set. */
export type CallTarget = { agent_id: number } | { service_id: number } | { number: string } | { extension: string };

/** One entry of GET /api/v1/callbacks?mine=true (P7). */
export interface Callback {
  id: number;
  number: string;
  name: string | null;
  due_at: string | null;
  notes: string | null;
  service: string | null;
  state: string;
}
