// Transfer and consult: choose a target, then blind-transfer or consult; during a consult,
// complete, cancel, swap or conference.
import { useState } from "preact/hooks";
import { labelFor, t } from "../i18n";
import type { Call, CallTarget, DirectoryAgent, ServiceRef } from "../types";
import { dialable } from "../dialing";
import type { Workstation } from "../workstation";

type TargetKind = "agent" | "service" | "number";
const KINDS: readonly TargetKind[] = ["agent", "service", "number"];

interface TransferAreaProps {
  call: Call;
  /** Outside numbers are allowed for this agent. */
  canDialOut: boolean;
  agents: readonly DirectoryAgent[];
  services: readonly ServiceRef[];
  workstation: Workstation;
}

/** The transfer controls of the call panel. */
export function TransferArea({ call, canDialOut, agents, services, workstation }: TransferAreaProps) {
  const [kind, setKind] = useState<TargetKind>("agent");
  const [target, setTarget] = useState("");

  if (call.consult) {
    const consult = call.consult;
    return (
      <div class="transfer consulting">
        <h3>
          {t("consult.heading", { label: consult.label })}{" "}
          <span class="muted">({t(`consult.state.${consult.state}`)})</span>
        </h3>
        <div class="button-row">
          <button
            class="primary"
            data-testid="consult-complete"
            disabled={consult.state === "ringing"}
            onClick={() => workstation.consultStep(call, "complete")}
          >
            {t("consult.complete")}
          </button>
          <button data-testid="consult-cancel" onClick={() => workstation.consultStep(call, "cancel")}>
            {t("consult.cancel")}
          </button>
          <button data-testid="consult-swap" disabled={consult.state === "ringing"} onClick={() => workstation.consultStep(call, "swap")}>
            {t("consult.swap")}
          </button>
          <button
            data-testid="consult-conference"
            disabled={consult.state === "ringing"}
            onClick={() => workstation.consultStep(call, "conference")}>
            {t("consult.conference")}
          </button>
        </div>
      </div>
    );
  }

  const to = toTarget(kind, target);
  return (
    <div class="transfer">
      <h3>{t("transfer.heading")}</h3>
      <div class="button-row">
        <select
          class="compact"
          data-testid="transfer-kind"
          aria-label={t("transfer.kind")}
          value={kind}
          onChange={(e) => {
            setKind(e.currentTarget.value as TargetKind);
            setTarget("");
          }}
        >
          {KINDS.filter((k) => canDialOut || k !== "number").map((k) => (
            <option key={k} value={k}>
              {t(`transfer.kind.${k}`)}
            </option>
          ))}
        </select>
        {kind === "number" ? (
          <input
            class="grow"
            data-testid="transfer-target"
            type="tel"
            inputMode="tel"
            aria-label={t("transfer.target")}
            placeholder={t("transfer.numberPlaceholder")}
            value={target}
            onInput={(e) => setTarget(e.currentTarget.value)}
          />
        ) : (
          <select
            class="grow"
            data-testid="transfer-target"
            aria-label={t("transfer.target")}
            value={target}
            onChange={(e) => setTarget(e.currentTarget.value)}
          >
            <option value="">{t("transfer.choose")}</option>
            {kind === "agent"
              ? agents.map((agent) => (
                  <option key={agent.id} value={String(agent.id)}>
                    {agent.display_name || agent.username} ({labelFor("state", agent.state)})
                  </option>
                ))
              : services.map((service) => (
                  <option key={service.id} value={String(service.id)}>
                    {service.name}
                  </option>
                ))}
          </select>
        )}
      </div>
      <div class="button-row">
        <button data-testid="transfer-blind" disabled={!to} onClick={() => to && workstation.transfer(call, to)}>
          {t("transfer.blind")}
        </button>
        <button data-testid="consult-start" disabled={!to} onClick={() => to && workstation.consult(call, to)}>
          {t("transfer.consult")}
        </button>
      </div>
    </div>
  );
}

/** The engine's `to` object for the chosen kind and value, or null while incomplete. */
function toTarget(kind: TargetKind, value: string): CallTarget | null {
  const trimmed = value.trim();
  if (!trimmed) return null;
  if (kind === "number") return { number: dialable(trimmed) };
  const id = Number(trimmed);
  if (!Number.isInteger(id)) return null;
  return kind === "agent" ? { agent_id: id } : { service_id: id };
}
