// The signed-in screen: top bar, alerts, then two columns (call work left, the rest right).
import type { AppSession } from "../app-session";
import { useObservable } from "../hooks";
import { t } from "../i18n";
import type { Workstation } from "../workstation";
import { Alerts } from "./Alerts";
import { CallbacksPanel } from "./CallbacksPanel";
import { CallPanel } from "./CallPanel";
import { DialPanel } from "./DialPanel";
import { QueuePanel } from "./QueuePanel";
import { TopBar } from "./TopBar";
import { WrapUpPanel } from "./WrapUpPanel";

interface WorkstationScreenProps {
  session: AppSession;
  workstation: Workstation;
}

/** Renders the latest view; holds no call state of its own. */
export function WorkstationScreen({ session, workstation }: WorkstationScreenProps) {
  const view = useObservable(workstation.hub.view);
  const hubConnected = useObservable(workstation.hub.connected);
  const softphone = useObservable(workstation.softphone.state);
  const autoAnswer = useObservable(workstation.softphone.autoAnswer);
  const onCall = Boolean(view?.call);
  const others = (view?.agents ?? []).filter((agent) => agent.id !== workstation.config.agent.id);

  return (
    <div class="workstation">
      <TopBar
        session={session}
        workstation={workstation}
        view={view}
        softphone={softphone}
        autoAnswer={autoAnswer}
        hubConnected={hubConnected}
      />
      <Alerts softphone={softphone} stale={Boolean(view) && !hubConnected} />
      {view ? (
        <main class={hubConnected ? "columns" : "columns stale"}>
          <div class="column left">
            {view.call && <CallPanel call={view.call} view={view} softphone={softphone} workstation={workstation} />}
            {view.wrap_up && (
              <WrapUpPanel key={view.wrap_up.interaction_id} wrapUp={view.wrap_up} workstation={workstation} />
            )}
            {!view.call && !view.wrap_up && (
              <section class="panel idle">
                <p class="muted">{t("call.none")}</p>
              </section>
            )}
          </div>
          <div class="column right">
            <QueuePanel queue={view.queue ?? []} workstation={workstation} />
            <DialPanel
              agents={others}
              canDialOut={workstation.config.can_dial_out !== false}
              busy={onCall}
              workstation={workstation}
            />
            <CallbacksPanel callbacks={workstation.callbacks} busy={onCall} />
          </div>
        </main>
      ) : (
        <main class="loading">
          <p class="muted">{t("login.loading")}</p>
        </main>
      )}
    </div>
  );
}
