// Live timers computed from engine timestamps on the engine's clock.
import { elapsedSince, formatDuration, remainingUntil } from "../clock";
import { useServerNow } from "../hooks";

interface ElapsedProps {
  since: string | null | undefined;
  testId?: string;
}

/** Time elapsed since an engine timestamp, ticking every second. */
export function Elapsed({ since, testId }: ElapsedProps) {
  const now = useServerNow();
  return (
    <span class="timer" data-testid={testId}>
      {formatDuration(elapsedSince(since, now))}
    </span>
  );
}

interface CountdownProps {
  until: string;
  testId?: string;
}

/** Time left until an engine timestamp, ticking every second. */
export function Countdown({ until, testId }: CountdownProps) {
  const now = useServerNow();
  const left = remainingUntil(until, now);
  return (
    <span class={left < 10_000 ? "timer urgent" : "timer"} data-testid={testId}>
      {formatDuration(left)}
    </span>
  );
}
