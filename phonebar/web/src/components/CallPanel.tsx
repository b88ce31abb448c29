// The current call, exactly as the view describes it.
import { t } from "../i18n";
import type { SoftphoneState } from "../softphone";
import type { Call, Config, Party, View } from "../types";
import type { Workstation } from "../workstation";
import { CallHistory } from "./CallHistory";
import { DtmfPad } from "./DtmfPad";
import { PartiesList } from "./PartiesList";
import { Elapsed } from "./Timers";
import { TransferArea } from "./TransferArea";

interface CallPanelProps {
  call: Call;
  view: View;
  softphone: SoftphoneState;
  workstation: Workstation;
}

/** Caller details, answer/hang-up, hold, mute, keypad, transfer and the screen pop. */
export function CallPanel({ call, view, softphone, workstation }: CallPanelProps) {
  const live = call.state === "connected" || call.state === "held";
  const others = otherParties(call.parties, workstation.config);
  return (
    <section
      class={`panel call-panel call-${call.state}`}
      data-testid="call-panel"
      data-state={call.state}
      data-interaction={String(call.interaction_id)}
      aria-live="polite"
    >
      <header class="panel-head">
        <h2>{t(`call.state.${call.state}`)}</h2>
        <span class="muted">{t(`call.direction.${call.direction}`)}</span>
        {call.recording && <span class="badge recording">● {t("call.recording")}</span>}
      </header>

      <dl class="call-facts">
        <div>
          <dt>{t("call.caller")}</dt>
          <dd>
            {call.name && <strong class="call-name">{call.name} </strong>}
            <span data-testid="call-ani">{call.ani || t("call.unknownCaller")}</span>
          </dd>
        </div>
        <div>
          <dt>{t("call.service")}</dt>
          <dd data-testid="call-service">{call.service ?? ""}</dd>
        </div>
        <div>
          <dt>{call.answered_at ? t("call.duration") : t("call.waited")}</dt>
          <dd>
            {call.answered_at ? (
              <Elapsed since={call.answered_at} testId="call-timer" />
            ) : (
              <Elapsed since={call.since} testId="call-waited" />
            )}
          </dd>
        </div>
      </dl>

      {call.state === "ringing" && <RingingActions view={view} softphone={softphone} workstation={workstation} />}

      {call.state === "dialing" && (
        <div class="button-row">
          {view.agent.device === "phone" && <p class="hint">{t("call.pickUpPhone")}</p>}
          <button class="danger" data-testid="call-hangup" onClick={() => workstation.hangup()}>
            {t("call.hangup")}
          </button>
        </div>
      )}

      {live && (
        <>
          <div class="button-row">
            {/* During a consult the customer's hold is the consult's; swap/cancel move it. */}
            {call.consult ? null : call.state === "held" ? (
              <button data-testid="call-resume" onClick={() => workstation.resume(call)}>
                {t("call.resume")}
              </button>
            ) : (
              <button data-testid="call-hold" onClick={() => workstation.hold(call)}>
                {t("call.hold")}
              </button>
            )}
            <button
              data-testid="call-mute"
              data-muted={String(call.muted)}
              aria-pressed={call.muted}
              class={call.muted ? "toggled" : ""}
              onClick={() => workstation.toggleMute(call)}
            >
              {call.muted ? t("call.unmute") : t("call.mute")}
            </button>
            <button class="danger" data-testid="call-hangup" onClick={() => workstation.hangup()}>
              {t("call.hangup")}
            </button>
          </div>
          <div class="call-tools">
            <DtmfPad disabled={call.state !== "connected"} onDigit={(digit) => workstation.dtmf(call, digit)} />
            <TransferArea
              call={call}
              canDialOut={workstation.config.can_dial_out !== false}
              agents={view.agents.filter((agent) => agent.id !== workstation.config.agent.id)}
              services={view.services}
              workstation={workstation}
            />
          </div>
          {others.length > 0 && (
            <PartiesList
              parties={others}
              canDrop={others.length >= 2}
              onDrop={(partyId) => workstation.dropParty(call, partyId)}
            />
          )}
        </>
      )}

      <CallHistory history={call.history} />
    </section>
  );
}

interface RingingActionsProps {
  view: View;
  softphone: SoftphoneState;
  workstation: Workstation;
}

/** Answer and Reject act on the browser's INVITE; a desk phone is answered on the phone. */
function RingingActions({ view, softphone, workstation }: RingingActionsProps) {
  const mode = workstation.answerMode(view);
  if (mode === "phone") return <p class="hint answer-on-phone">{t("call.answerOnPhone")}</p>;
  const waiting = mode === "browser-pending";
  return (
    <div class="button-row">
      <button
        class="primary answer"
        data-testid="call-answer"
        disabled={waiting || softphone.incoming?.answering === true}
        onClick={() => workstation.answer()}
      >
        {t("call.answer")}
      </button>
      <button class="danger" data-testid="call-reject" disabled={waiting} onClick={() => workstation.reject()}>
        {t("call.reject")}
      </button>
      {waiting && <span class="hint">{t("call.waitingForBrowser")}</span>}
    </div>
  );
}

// The contract does not say whether `parties` lists the viewing agent; leave the agent
// out either way, so "more than two parties" means two or more others.
function otherParties(parties: readonly Party[], config: Config): Party[] {
  const me = [config.agent.display_name, config.agent.username, config.agent.extension].filter(Boolean);
  return parties.filter((party) => !(party.kind === "agent" && me.includes(party.label)));
}
