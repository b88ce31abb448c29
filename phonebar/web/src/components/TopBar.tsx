// The bar across the top: who, state, devices, connections, language, help, logout.
import type { AppSession } from "../app-session";
import { t } from "../i18n";
import type { SoftphoneState } from "../softphone";
import type { View } from "../types";
import type { Workstation } from "../workstation";
import { DeviceControls } from "./DeviceControls";
import { LanguageSelect } from "./LanguageSelect";
import { ShortcutHelp } from "./ShortcutHelp";
import { StateControls } from "./StateControls";

interface TopBarProps {
  session: AppSession;
  workstation: Workstation;
  view: View | null;
  softphone: SoftphoneState;
  autoAnswer: boolean;
  hubConnected: boolean;
}

/** The top bar; state and device parts wait for the first view. */
export function TopBar({ session, workstation, view, softphone, autoAnswer, hubConnected }: TopBarProps) {
  const { agent, tenant, not_ready_reasons } = workstation.config;
  return (
    <header class="topbar">
      <div class="who" title={`${agent.username} · ${tenant.name}`}>
        <strong>{agent.display_name || agent.username}</strong>
        {agent.extension && <span class="muted"> {agent.extension}</span>}
      </div>
      {view && <StateControls agent={view.agent} reasons={not_ready_reasons} workstation={workstation} />}
      <div class="spacer" />
      <DeviceControls
        agent={view?.agent ?? null}
        softphone={softphone}
        autoAnswer={autoAnswer}
        hubConnected={hubConnected}
        workstation={workstation}
      />
      <LanguageSelect />
      <ShortcutHelp />
      <button class="logout" data-testid="state-logout" onClick={() => void session.logout()}>
        {t("action.logout")}
      </button>
    </header>
  );
}
