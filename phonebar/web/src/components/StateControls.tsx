// The agent's state with its live time, and the one-click state changes.
import { useState } from "preact/hooks";
import { labelFor, t } from "../i18n";
import type { AgentView } from "../types";
import type { Workstation } from "../workstation";
import { Elapsed } from "./Timers";

interface StateControlsProps {
  agent: AgentView;
  reasons: readonly string[];
  workstation: Workstation;
}

/** State badge, time in state, Ready, Not ready with its reason chooser. */
export function StateControls({ agent, reasons, workstation }: StateControlsProps) {
  const [reason, setReason] = useState(reasons[0] ?? "");
  return (
    <div class="state-controls">
      <span
        class={`state-badge state-${agent.state}`}
        data-testid="agent-state"
        data-state={agent.state}
        title={t("state.label")}
      >
        {labelFor("state", agent.state)}
        {agent.reason && <span class="state-reason"> · {labelFor("reason", agent.reason)}</span>}
      </span>
      <span title={t("state.since")}>
        <Elapsed since={agent.since} testId="state-since" />
      </span>
      <button
        class="state-button ready"
        data-testid="state-ready"
        aria-pressed={agent.state === "ready"}
        onClick={() => workstation.ready()}
      >
        {t("action.ready")}
      </button>
      <span class="joined">
        <button
          class="state-button not-ready"
          data-testid="state-not-ready"
          aria-pressed={agent.state === "not_ready"}
          onClick={() => workstation.notReady(reason || undefined)}
        >
          {t("action.notReady")}
        </button>
        <select
          class="compact"
          data-testid="not-ready-reason"
          aria-label={t("state.reason")}
          value={reason}
          onChange={(e) => setReason(e.currentTarget.value)}
        >
          {reasons.map((code) => (
            <option key={code} value={code}>
              {labelFor("reason", code)}
            </option>
          ))}
        </select>
      </span>
    </div>
  );
}
