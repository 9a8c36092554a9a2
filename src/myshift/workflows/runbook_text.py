"""The runbook's words, in each language ``myshift runbook --lang`` offers.

Only the prose is translated: commands, object names, SQL, risk classes
(``safe``, ``data-dependent``, ``destructive``) and the change descriptions
the engine writes stay as they are, so a runbook's commands paste the same in
any language.  Each entry is a ``str.format`` template; the keyword names are
the same in every language.
"""

from __future__ import annotations

from typing import Final

from myshift.config.settings import LANGS

__all__ = ["EN", "ES", "LANGS", "TEXTS"]


EN: Final[dict[str, str]] = {
    "title": "# Runbook: `{schema}` on {target}",
    "plan": "- Plan: `{plan}` ({hash}…), made {created} by myshift {version} for {flavor}",
    "kind": "- Kind: {kind}",
    "undoes": " (undoes apply #{id})",
    "operator": "- Operator (history will record): {operator}",
    "nothing_to_do": "nothing to do",
    "summary": "{n} statement(s): {parts}",
    "summary_skipped": "; {n} destructive skipped (re-run with --allow-drop to include)",
    "recent": "Recent applies of this schema in history:",
    "recent_head": "| # | kind | when (UTC) | operator | outcome |",
    "warning": "- Warning: {text}",
    "changes": "## What will change",
    "changes_none": "Nothing: the target already matches.",
    "changes_head": "| # | object | change | risk | algorithm / lock | kept for rollback |",
    "skipped": " (skipped)",
    "kept_restore": "restores held data",
    "kept_table": "yes: table moved to `{holding}`",
    "kept_cols": "yes: {cols} backed up (verified)",
    "kept_parts": "yes: rows of {parts} swapped into `{holding}`",
    "kept_no": "**no**",
    "before": "## Before you start",
    "preflight": "Pre-flight checks (apply re-runs them; each must count 0 rows):",
    "preflight_not_run": "not run",
    "preflight_not_checked": "not checked",
    "preflight_rows": "{n} row(s) now",
    "preflight_none": "- No data-dependent statement: no pre-flight check needed.",
    "rehearse": "- Rehearse: `myshift rehearse --plan {plan} --to {target}`",
    "apply": "- Apply: `myshift apply --plan {plan} --to {target}`",
    "rollback": "## Rollback",
    "rollback_of": (
        "This plan *is* a rollback of apply #{id}. To undo it in turn: "
        "`myshift rollback <its history id> --to {target}`."
    ),
    "rollback_cmd": (
        "Command: `myshift rollback --to {target}` (the latest apply), or "
        "`myshift rollback <ID> --to {target}` with the history id `apply` prints."
    ),
    "rollback_review": (
        "To review first: `myshift rollback <ID> --to {target} --plan-only -o back.json`, "
        "then `myshift apply --plan back.json --to {target}`."
    ),
    "restores": "What it restores:",
    "restores_none": "Nothing will run, so nothing to roll back.",
    "refused_later": (
        "It is refused if a later apply changed the same objects (roll that one back first)."
    ),
    "r_table": "table `{subject}` comes back with every row it had (renamed back).",
    "r_parts": "{undo}; the rows of {parts} are swapped back.",
    "r_undo": "`{subject}`: reversed by DDL ({what})",
    "r_cols": (
        "{undo}; {cols} come back with their original definitions and values "
        "(by primary key); rows inserted after the apply get the column default."
    ),
    "r_lost": (
        "{undo}; **not restored**: the data this statement destroys does not come back "
        "(re-plan with --keep-data to keep it)."
    ),
    "after": "## Checks after",
    "after_history": "- The history entry: `myshift history --to {target}` (outcome `ok`).",
    "after_drift": (
        "- No drift: `myshift drift --to {target} --from <desired>` exits 0 "
        "(apply also re-introspects and compares)."
    ),
    "after_count": "- `{name}` answers: `SELECT COUNT(*) FROM {schema}.{name};`",
    "after_show": "- `{name}` is as planned: `SHOW CREATE {kind} {schema}.{name};`",
    "after_trash": (
        "- What is held for rollback: `myshift trash list --to {target}`; purge later with "
        "`myshift trash purge --older-than 7d --to {target}`."
    ),
}

ES: Final[dict[str, str]] = {
    "title": "# Runbook: `{schema}` en {target}",
    "plan": "- Plan: `{plan}` ({hash}…), generado el {created} por myshift {version} para {flavor}",
    "kind": "- Tipo: {kind}",
    "undoes": " (deshace el apply #{id})",
    "operator": "- Operador (quedará en el historial): {operator}",
    "nothing_to_do": "nada que hacer",
    "summary": "{n} sentencia(s): {parts}",
    "summary_skipped": (
        "; {n} destructiva(s) omitida(s) "
        "(para incluirlas, hay que volver a ejecutar con --allow-drop)"
    ),
    "recent": "Últimos applies de este esquema en el historial:",
    "recent_head": "| # | tipo | cuándo (UTC) | operador | resultado |",
    "warning": "- Aviso: {text}",
    "changes": "## Qué va a cambiar",
    "changes_none": "Nada: el destino ya coincide.",
    "changes_head": (
        "| # | objeto | cambio | riesgo | algoritmo / bloqueo | se conserva para el rollback |"
    ),
    "skipped": " (omitida)",
    "kept_restore": "restaura los datos guardados",
    "kept_table": "sí: la tabla se mueve a `{holding}`",
    "kept_cols": "sí: copia de seguridad de {cols} (verificada)",
    "kept_parts": "sí: las filas de {parts} se intercambian a `{holding}`",
    "kept_no": "**no**",
    "before": "## Antes de empezar",
    "preflight": (
        "Comprobaciones previas (apply las vuelve a ejecutar; cada una debe contar 0 filas):"
    ),
    "preflight_not_run": "sin ejecutar",
    "preflight_not_checked": "no comprobable",
    "preflight_rows": "{n} fila(s) ahora",
    "preflight_none": (
        "- Ninguna sentencia depende de los datos: no hace falta comprobación previa."
    ),
    "rehearse": "- Ensayar: `myshift rehearse --plan {plan} --to {target}`",
    "apply": "- Aplicar: `myshift apply --plan {plan} --to {target}`",
    "rollback": "## Rollback",
    "rollback_of": (
        "Este plan *es* el rollback del apply #{id}. Para deshacerlo a su vez: "
        "`myshift rollback <su id en el historial> --to {target}`."
    ),
    "rollback_cmd": (
        "Comando: `myshift rollback --to {target}` (el último apply), o "
        "`myshift rollback <ID> --to {target}` con el id de historial que muestra `apply`."
    ),
    "rollback_review": (
        "Para revisarlo antes: `myshift rollback <ID> --to {target} --plan-only -o back.json` "
        "y después `myshift apply --plan back.json --to {target}`."
    ),
    "restores": "Qué restaura:",
    "restores_none": "No se ejecutará nada, así que no hay nada que revertir.",
    "refused_later": (
        "Se rechaza si un apply posterior cambió los mismos objetos (primero hay que revertir ese)."
    ),
    "r_table": "la tabla `{subject}` vuelve con todas sus filas (se renombra de vuelta).",
    "r_parts": "{undo}; las filas de {parts} vuelven por intercambio.",
    "r_undo": "`{subject}`: se revierte con DDL ({what})",
    "r_cols": (
        "{undo}; {cols} vuelven con su definición y sus valores originales "
        "(por clave primaria); las filas insertadas después del apply reciben el valor "
        "por defecto de la columna."
    ),
    "r_lost": (
        "{undo}; **no se restaura**: los datos que destruye esta sentencia no vuelven "
        "(para conservarlos, hay que volver a planificar con --keep-data)."
    ),
    "after": "## Comprobaciones posteriores",
    "after_history": (
        "- La entrada del historial: `myshift history --to {target}` (resultado `ok`)."
    ),
    "after_drift": (
        "- Sin drift: `myshift drift --to {target} --from <deseado>` termina con 0 "
        "(apply también vuelve a leer el esquema y lo compara)."
    ),
    "after_count": "- `{name}` responde: `SELECT COUNT(*) FROM {schema}.{name};`",
    "after_show": "- `{name}` es como se planeó: `SHOW CREATE {kind} {schema}.{name};`",
    "after_trash": (
        "- Lo que se guarda para el rollback: `myshift trash list --to {target}`; "
        "se purga más adelante con `myshift trash purge --older-than 7d --to {target}`."
    ),
}

TEXTS: Final[dict[str, dict[str, str]]] = {"en": EN, "es": ES}
