// The 12-key pad; each key is one engine DTMF command.
import { t } from "../i18n";

const KEYS: readonly { digit: string; id: string }[] = [
  ..."123456789".split("").map((digit) => ({ digit, id: digit })),
  { digit: "*", id: "star" },
  { digit: "0", id: "0" },
  { digit: "#", id: "hash" },
];

interface DtmfPadProps {
  onDigit: (digit: string) => void;
  disabled: boolean;
}

/** Sends DTMF through the engine (the softphone never sends it itself). */
export function DtmfPad({ onDigit, disabled }: DtmfPadProps) {
  return (
    <div class="dtmf-pad" role="group" aria-label={t("call.keypad")}>
      {KEYS.map(({ digit, id }) => (
        <button key={id} data-testid={`dtmf-${id}`} disabled={disabled} onClick={() => onDigit(digit)}>
          {digit}
        </button>
      ))}
    </div>
  );
}
