// Where calls ring (device chooser, auto-answer) and whether the links to it are up.
import { t } from "../i18n";
import type { SoftphoneState } from "../softphone";
import type { AgentView, Device } from "../types";
import type { Workstation } from "../workstation";

const DEVICES: readonly Device[] = ["auto", "browser", "phone"];

interface DeviceControlsProps {
  /** Null until the first view arrives. */
  agent: AgentView | null;
  softphone: SoftphoneState;
  autoAnswer: boolean;
  hubConnected: boolean;
  workstation: Workstation;
}

/** Device chooser, auto-answer, SIP and hub indicators. */
export function DeviceControls({ agent, softphone, autoAnswer, hubConnected, workstation }: DeviceControlsProps) {
  const registrations = (["browser", "phone"] as const)
    .map((device) =>
      t(agent?.devices[device] ? "device.registered" : "device.unregistered", { device: t(`device.${device}`) }),
    )
    .join(" · ");
  const sipText = !softphone.enabled
    ? t("sip.off")
    : softphone.registered
      ? t("sip.registered")
      : t("sip.unregistered");
  return (
    <div class="device-controls">
      {agent && (
        <select
          class="compact"
          data-testid="device-select"
          aria-label={t("device.label")}
          title={`${t("device.label")} — ${registrations}`}
          value={agent.device}
          onChange={(e) => workstation.setDevice(e.currentTarget.value as Device)}
        >
          {DEVICES.map((device) => (
            <option key={device} value={device}>
              {t(`device.${device}`)}
            </option>
          ))}
        </select>
      )}
      <label class="checkbox" title={t("autoAnswer.hint")}>
        <input
          type="checkbox"
          data-testid="auto-answer"
          checked={autoAnswer}
          onChange={(e) => workstation.softphone.setAutoAnswer(e.currentTarget.checked)}
        />
        {t("autoAnswer.label")}
      </label>
      <span
        class={`indicator ${softphone.registered ? "on" : softphone.enabled ? "off" : "idle"}`}
        data-testid="sip-status"
        data-registered={String(softphone.registered)}
        title={sipText}
        role="status"
      >
        {softphone.registered ? t("sip.short.on") : t("sip.short.off")}
      </span>
      <span
        class={`indicator ${hubConnected ? "on" : "off"}`}
        data-testid="hub-status"
        data-connected={String(hubConnected)}
        title={hubConnected ? t("hub.connected") : t("hub.disconnected")}
        role="status"
      >
        {hubConnected ? t("hub.short.on") : t("hub.short.off")}
      </span>
    </div>
  );
}
