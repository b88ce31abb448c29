// Preact glue for observables and ticking clocks.
import { useEffect, useState } from "preact/hooks";
import { serverNow } from "./clock";
import type { ReadonlyObservable } from "./observable";

/** The observable's current value; re-renders the component when it changes. */
export function useObservable<T>(source: ReadonlyObservable<T>): T {
  const [value, setValue] = useState<T>(() => source.get());
  useEffect(() => {
    // The value may have changed between render and effect.
    setValue(() => source.get());
    return source.subscribe((next) => setValue(() => next));
  }, [source]);
  return value;
}

/** The engine's current time in ms, refreshed every `periodMs` so live timers move. */
export function useServerNow(periodMs = 1000): number {
  const [now, setNow] = useState(serverNow);
  useEffect(() => {
    const timer = window.setInterval(() => setNow(serverNow()), periodMs);
    return () => window.clearInterval(timer);
  }, [periodMs]);
  return now;
}
