// Everything the agent must notice: failed commands, microphone, SIP and hub trouble.
import { dismissNotice, notices } from "../errors";
import { useObservable } from "../hooks";
import { t } from "../i18n";
import type { MicError, SipError, SoftphoneState } from "../softphone";

interface AlertsProps {
  softphone: SoftphoneState;
  /** The view on screen is from before a hub drop. */
  stale: boolean;
}

/** The stack of banners under the top bar. */
export function Alerts({ softphone, stale }: AlertsProps) {
  const list = useObservable(notices);
  return (
    <div class="alerts">
      {list.length > 0 && (
        <div class="banner error" data-testid="error-banner" role="alert">
          {list.map((notice) => (
            <div key={notice.id} class="banner-line">
              <span class="grow">{notice.text}</span>
              <button
                class="dismiss"
                aria-label={t("error.dismiss")}
                title={t("error.dismiss")}
                onClick={() => dismissNotice(notice.id)}
              >
                ×
              </button>
            </div>
          ))}
        </div>
      )}
      {softphone.enabled && softphone.micError && (
        <div class="banner warning" data-testid="mic-error" data-kind={softphone.micError.kind} role="alert">
          🎤 {micText(softphone.micError)}
        </div>
      )}
      {softphone.enabled && softphone.sipError && (
        <div class="banner warning" data-testid="sip-error" data-kind={softphone.sipError.kind} role="alert">
          {sipText(softphone.sipError)}
        </div>
      )}
      {stale && (
        <div class="banner info" role="status">
          {t("hub.stale")}
        </div>
      )}
    </div>
  );
}

function micText(error: MicError): string {
  switch (error.kind) {
    case "denied":
      return t("mic.error.denied");
    case "missing":
      return t("mic.error.missing");
    case "insecure":
      return t("mic.error.insecure");
    case "failed":
      return t("mic.error.failed", { detail: error.detail });
  }
}

function sipText(error: SipError): string {
  switch (error.kind) {
    case "auth":
      return t("sip.error.auth");
    case "unreachable":
      return t("sip.error.unreachable", { url: error.url });
    case "config":
      return t("sip.error.config", { detail: error.detail });
    case "failed":
      return t("sip.error.failed", { cause: error.cause });
  }
}
