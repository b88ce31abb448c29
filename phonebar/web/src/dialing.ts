// Numbers as the engine accepts them (`^\+?[0-9]{2,32}$`).

/** Drops the separators people type or paste ("+39 02-1234 (5)" → "+390212345"). */
export function dialable(typed: string): string {
  return typed.replace(/[\s\-().\/]/g, "");
}
