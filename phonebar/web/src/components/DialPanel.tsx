// Outbound calls: a number to dial, and the agent directory (P11).
import { useState } from "preact/hooks";
import { labelFor, t } from "../i18n";
import type { DirectoryAgent } from "../types";
import { dialable } from "../dialing";
import type { Workstation } from "../workstation";

interface DialPanelProps {
  agents: readonly DirectoryAgent[];
  /** Outside numbers are allowed for this agent (config `can_dial_out`). */
  canDialOut: boolean;
  /** No new call while one is up: voice is one at a time. */
  busy: boolean;
  workstation: Workstation;
}

/** The number field with its Call button, then every other agent with theirs. */
export function DialPanel({ agents, canDialOut, busy, workstation }: DialPanelProps) {
  const [number, setNumber] = useState("");
  const dial = async (event: Event): Promise<void> => {
    event.preventDefault();
    const to = dialable(number);
    if (to && (await workstation.placeCall({ number: to }))) setNumber("");
  };
  return (
    <>
      {canDialOut && (
        <section class="panel dial-panel">
          <h2>{t("dial.heading")}</h2>
          <form class="button-row" onSubmit={dial}>
            <input
              class="grow"
              data-testid="dial-input"
              type="tel"
              inputMode="tel"
              autocomplete="off"
              aria-label={t("dial.placeholder")}
              placeholder={t("dial.placeholder")}
              value={number}
              onInput={(e) => setNumber(e.currentTarget.value)}
            />
            <button type="submit" class="primary" data-testid="dial-call" disabled={busy || !dialable(number)}>
              {t("dial.call")}
            </button>
          </form>
        </section>
      )}
      <section class="panel agents-panel">
        <h2>{t("agents.heading")}</h2>
        {agents.length === 0 ? (
          <p class="muted">{t("agents.none")}</p>
        ) : (
          <ul class="rows">
            {agents.map((agent) => (
              <li key={agent.id} data-testid={`agent-${agent.username}`} data-state={agent.state}>
                <span class={`dot state-${agent.state}`} title={labelFor("state", agent.state)} />
                <span class="grow">
                  {agent.display_name || agent.username}
                  {agent.extension && <span class="muted"> {agent.extension}</span>}
                </span>
                <span class="muted">{labelFor("state", agent.state)}</span>
                <button
                  class="small"
                  data-testid={`agent-${agent.username}-call`}
                  disabled={busy}
                  onClick={() => void workstation.placeCall({ agent_id: agent.id })}
                >
                  {t("agents.call")}
                </button>
              </li>
            ))}
          </ul>
        )}
      </section>
    </>
  );
}
