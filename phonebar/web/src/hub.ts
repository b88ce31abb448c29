// The hub client: one WebSocket to the engine that delivers this agent's `view`.
// Every view is the whole truth, so reconnecting needs no replay: the first view after
// re-authenticating replaces whatever the page showed before the drop.
import { API_BASE } from "./api";
import { observeServerTime } from "./clock";
import { Observable, type ReadonlyObservable } from "./observable";
import type { DirectoryAgent, HubMessage, View } from "./types";

const PING_EVERY_MS = 15_000;
// Two pings without any answer: the socket is dead even if the browser has not noticed.
const SILENCE_LIMIT_MS = 2 * PING_EVERY_MS + 5_000;
const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 5_000;
/** Close code the engine uses for a rejected token. */
export const CLOSE_AUTH_REJECTED = 4401;

/** The hub's WebSocket URL on the page's own origin. */
export function hubUrl(location: Location = window.location): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${API_BASE}/ws`;
}

/** Keeps one authenticated hub socket open and publishes the latest view. */
export class Hub {
  private readonly connectedState = new Observable<boolean>(false);
  private readonly viewState = new Observable<View | null>(null);
  private socket: WebSocket | null = null;
  private backoffMs = BACKOFF_FIRST_MS;
  private reconnectTimer: number | undefined;
  private pingTimer: number | undefined;
  private lastHeardAt = 0;
  private lastSeq = -1;
  private running = false;
  // The tenant's directory arrives on its own (throttled by the engine) and is merged in.
  private agents: DirectoryAgent[] = [];

  /** True while an authenticated socket delivers views. */
  readonly connected: ReadonlyObservable<boolean> = this.connectedState;
  /** The latest view; kept (stale) while reconnecting so the agent still sees the call. */
  readonly view: ReadonlyObservable<View | null> = this.viewState;

  constructor(
    private readonly token: () => string | null,
    /** Called once when the engine refuses the token; the hub then stays closed. */
    private readonly onAuthRejected: (serverText: string | null) => void,
    private readonly url: string = hubUrl(),
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.open();
  }

  stop(): void {
    this.running = false;
    window.clearTimeout(this.reconnectTimer);
    this.dropSocket();
    this.connectedState.set(false);
  }

  private open(): void {
    const token = this.token();
    if (!token) {
      this.running = false;
      this.onAuthRejected(null);
      return;
    }
    const socket = new WebSocket(this.url);
    this.socket = socket;
    this.lastSeq = -1;
    let authError: string | null = null;

    socket.onopen = () => {
      this.lastHeardAt = Date.now();
      socket.send(JSON.stringify({ type: "auth", token }));
      this.pingTimer = window.setInterval(() => this.ping(socket), PING_EVERY_MS);
    };
    socket.onmessage = (event: MessageEvent) => {
      this.lastHeardAt = Date.now();
      const message = parse(event.data);
      if (!message) return;
      if (message.type === "view") this.receiveView(message.seq, message.now ?? message.view.now, message.view);
      else if (message.type === "agents") this.receiveAgents(message.agents, message.full !== false, message.removed ?? []);
      else if (message.type === "error") authError = message.error;
    };
    socket.onclose = (event: CloseEvent) => {
      if (socket !== this.socket) return;
      this.dropSocket();
      this.connectedState.set(false);
      if (event.code === CLOSE_AUTH_REJECTED) {
        this.running = false;
        this.onAuthRejected(authError);
        return;
      }
      this.scheduleReconnect();
    };
    // An error is always followed by close, which does the reconnecting.
    socket.onerror = () => undefined;
  }

  private receiveView(seq: number, now: string | undefined, view: View): void {
    // Within one socket views are ordered; a lower seq is a late duplicate.
    if (typeof seq === "number" && seq <= this.lastSeq) return;
    if (typeof seq === "number") this.lastSeq = seq;
    if (now) observeServerTime(now);
    this.backoffMs = BACKOFF_FIRST_MS;
    const merged = { ...view, agents: this.agents };
    this.viewState.set(now && !view.now ? { ...merged, now } : merged);
    this.connectedState.set(true);
  }

  // The engine sends the whole directory when the socket opens, then only the entries that
  // changed (and the ids of agents removed): merge them by id, keeping the order by name.
  private receiveAgents(changed: DirectoryAgent[], full: boolean, removed: readonly number[]): void {
    const byId = new Map(full ? [] : this.agents.map((agent) => [agent.id, agent] as const));
    for (const agent of changed) byId.set(agent.id, agent);
    for (const id of removed) byId.delete(id);
    const agents = [...byId.values()].sort((a, b) => a.username.localeCompare(b.username));
    this.agents = agents;
    const current = this.viewState.get();
    if (current) this.viewState.set({ ...current, agents });
  }

  private ping(socket: WebSocket): void {
    if (Date.now() - this.lastHeardAt > SILENCE_LIMIT_MS) {
      // close() on a dead TCP connection can take minutes to fire onclose: give up on it now.
      this.dropSocket();
      this.connectedState.set(false);
      this.scheduleReconnect();
      return;
    }
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "ping" }));
  }

  private scheduleReconnect(): void {
    if (!this.running) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, BACKOFF_MAX_MS);
    window.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = window.setTimeout(() => {
      if (this.running) this.open();
    }, delay);
  }

  private dropSocket(): void {
    window.clearInterval(this.pingTimer);
    const socket = this.socket;
    this.socket = null;
    if (!socket) return;
    socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
    if (socket.readyState === WebSocket.CONNECTING || socket.readyState === WebSocket.OPEN) socket.close();
  }
}

function parse(data: unknown): HubMessage | null {
  if (typeof data !== "string") return null;
  try {
    const message = JSON.parse(data) as { type?: unknown };
    return typeof message.type === "string" ? (message as HubMessage) : null;
  } catch {
    return null;
  }
}
