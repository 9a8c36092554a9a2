"""The emergency runbook's words (``myshift runbook --emergency --lang``).

As in runbook_text: only the prose is translated; commands, SQL and names
stay as they are, so the runbook pastes the same in every language.  Each
entry is a ``str.format`` template with the same keywords in every language.
"""

from __future__ import annotations

from typing import Final

__all__ = ["EN", "ES", "TEXTS"]


EN: Final[dict[str, str]] = {
    "title": "# Emergency runbook: `{schema}` on {target}",
    "intro": (
        "For when applying `{plan}` goes wrong. Every command and query below is for this "
        "environment and this plan: paste them as they are."
    ),
    "f_plan": "- Plan: `{plan}` ({hash}…), {n} statement(s) on {objects}",
    "f_server": "- Server: {server} ({flavor})",
    "f_apply": "- The apply: history id {id} ({outcome}, started {when} UTC by {who})",
    "f_apply_none": (
        "- The apply: not in history yet; `<ID>` below is its history id (`myshift history "
        "--to {target}`), or run `myshift runbook --emergency --plan {plan} --to {target}` "
        "after the apply to fill it in"
    ),
    "f_lock": "- myshift's statements give up waiting for a lock after {n} s (lock_wait_timeout)",
    "s_notify": "## 1. Tell the team first",
    "notify_channels": (
        "Channels of {env}: {channels}. myshift itself sends them `apply failed` or `apply "
        "interrupted`; say what you do next, and again when it is over."
    ),
    "notify_none": (
        "No notification channel is configured for {env} (`notify = [...]` in its [env] table "
        "of myshift.toml): tell the team by hand."
    ),
    "notify_what": (
        "Say: the environment ({env}), the plan hash ({hash}), what failed (myshift's message) "
        "and whether you roll back."
    ),
    "s_stuck": "## 2. A stuck ALTER (or any statement of the plan)",
    "find": (
        "Find it: myshift's statements start with `/* myshift apply {ref}, statement n/m */`. "
        "This lists them and every statement on the plan's objects, longest first:"
    ),
    "mdl": (
        "Waiting for a metadata lock (STATE `Waiting for table metadata lock`)? Then it has "
        "changed nothing yet, and gives up by itself after {lw} s. The waits, then the open "
        "transactions that usually hold the lock (a session idle in one shows COMMAND `Sleep`):"
    ),
    "holders": "Who holds or waits for a lock on the plan's tables:",
    "kill_query": (
        "`KILL QUERY <processlist ID>;` stops the statement and keeps the session: use it on "
        "myshift's ALTER. The server undoes the ALTER (a copying ALTER drops its copy at once; an "
        "in-place one can take a while: watch STATE) and myshift records the apply as failed. "
        "Ctrl-C in myshift's terminal, or `kill <myshift's pid>` (SIGTERM) from anywhere, "
        "does the same."
    ),
    "kill": (
        "`KILL <processlist ID>;` also ends the session and rolls back its open transaction: "
        "the way to free a lock held by a session idle in a transaction (KILL QUERY does "
        "nothing to it). Its uncommitted work is lost: ask its owner first if you can."
    ),
    "rds": (
        "On RDS (no SUPER): `CALL mysql.rds_kill_query(<processlist ID>);` and "
        "`CALL mysql.rds_kill(<processlist ID>);`."
    ),
    "after_kill": "Then see where the apply stopped: `myshift history --to {target}`.",
    "s_online": "## 3. A stuck pt-online-schema-change run",
    "online_intro": (
        "Only when apply said a statement runs via pt-online-schema-change (tables: {tables}). "
        "The tool creates `_<table>_new`, puts three triggers "
        "`pt_osc_<schema>_<table>_ins/upd/del` on the table, copies the rows, then swaps the two "
        "tables."
    ),
    "online_ps": (
        "Its process, on the machine that ran myshift (an interrupted myshift stops it and cleans "
        "up; when myshift itself is gone, the tool may still run):"
    ),
    "online_sessions": "Its sessions on the server (KILL them if the process is gone):",
    "online_left": "What it left behind:",
    "online_moved": (
        "Before dropping `_{table}_new`: a run stopped just before the swap may have moved the "
        "table's own triggers onto it (anything here but pt_osc_*): create them again on "
        "`{table}` first (SHOW CREATE TRIGGER)."
    ),
    "online_clean": (
        "Clean up `{table}`, only once no pt-online-schema-change runs for it (myshift refuses "
        "to apply while its triggers are there):"
    ),
    "online_old": (
        "If `{table}` is missing but `_{table}_old` exists, the swap stopped half-way: rename it "
        "back, and never drop `_{table}_old` then:"
    ),
    "online_none": "No statement of this plan alters a table: nothing goes through the tool.",
    "s_rollback": "## 4. Roll back with myshift",
    "rb_history": (
        "The apply and its outcome (one that failed or was interrupted half-way is rolled back "
        "too: myshift undoes what ran):"
    ),
    "rb_run": (
        "Read what the rollback would run, then run it (no rehearsal needed, even on a protected "
        "environment; kept data comes back):"
    ),
    "rb_flags": (
        "Refused because the objects were changed by hand since? It names the changes: add "
        "`--take-back-outside-changes` to undo them too. `--lock-wait-timeout N` gives up sooner "
        "on a busy table; `--keep-data` keeps what the rollback drops (the default on a protected "
        "environment)."
    ),
    "s_manual": "## 5. Roll back without myshift",
    "manual_intro": (
        "When myshift cannot run: the reverse statements, derived from the plan file's two "
        "snapshots, to run with the mysql client in this order. If the apply stopped half-way, "
        "run only the reverse of what ran (`myshift history {ref} --to {target}` lists it, or "
        "check each object with SHOW CREATE TABLE)."
    ),
    "manual_kept_first": "First bring back the tables the apply kept ({tables}): section 6 (a).",
    "manual_kept_after": "Then write the kept column values back ({cols}): section 6 (b).",
    "manual_parts_after": "Then swap the kept partition rows back ({parts}): section 6 (c).",
    "manual_loss": (
        "What the apply created is dropped again with what was written to it since; data "
        "dropped without keep-data does not come back."
    ),
    "manual_none": "The plan runs nothing: nothing to reverse.",
    "kept_note": (
        "comes back with its rows by RENAME (section 6 (a)), not created empty; its foreign keys"
    ),
    "s_kept": "## 6. Restore a kept table by hand",
    "kept_intro": (
        "A keep-data apply moves a dropped table whole into `{holding}` and copies dropped "
        "columns' values there with the row key, recording each in `{holding}`.`_held`. "
        "The list (or `myshift trash list --to {target}`):"
    ),
    "kept_table": "(a) Table `{table}`: rename it back, then forget it in the catalog:",
    "kept_cols": (
        "(b) Columns {cols} of `{table}`: once the columns exist again (section 5 re-adds them), "
        "write the values back by key:"
    ),
    "kept_parts": (
        "(c) Rows of partition {partition} of `{table}`: once the partition exists again "
        "(section 5 re-creates it), swap them back under a lock, then drop the held table:"
    ),
    "kept_guess": (
        "`a<ID>` is `a` and the apply's history id; a name over 64 characters is cut and hashed: "
        "take `held_name` from the list above."
    ),
    "kept_none": (
        "This plan keeps nothing (made without --keep-data, or it drops nothing): a dropped object "
        "comes back only from a backup."
    ),
    "s_after": "## 7. Afterwards",
    "after": (
        "Check: `myshift history --to {target}` (the outcome), `myshift drift --to {target} "
        "--from <the desired schema>`, the application's errors; then tell the team it is over."
    ),
}

ES: Final[dict[str, str]] = {
    "title": "# Runbook de emergencia: `{schema}` en {target}",
    "intro": (
        "Para cuando el apply de `{plan}` sale mal. Cada comando y consulta de abajo es para este "
        "entorno y este plan: se pegan tal cual."
    ),
    "f_plan": "- Plan: `{plan}` ({hash}…), {n} sentencia(s) sobre {objects}",
    "f_server": "- Servidor: {server} ({flavor})",
    "f_apply": "- El apply: id de historial {id} ({outcome}, empezó {when} UTC, por {who})",
    "f_apply_none": (
        "- El apply: aún no está en el historial; `<ID>` abajo es su id de historial "
        "(`myshift history --to {target}`), o se ejecuta `myshift runbook --emergency --plan "
        "{plan} --to {target}` después del apply para rellenarlo"
    ),
    "f_lock": (
        "- Las sentencias de myshift dejan de esperar un bloqueo a los {n} s (lock_wait_timeout)"
    ),
    "s_notify": "## 1. Primero, avisar al equipo",
    "notify_channels": (
        "Canales de {env}: {channels}. myshift ya les envía `apply failed` o `apply interrupted`; "
        "hay que decir qué se hace a continuación, y otra vez al terminar."
    ),
    "notify_none": (
        "No hay canal de avisos configurado para {env} (`notify = [...]` en su tabla [env] de "
        "myshift.toml): hay que avisar al equipo a mano."
    ),
    "notify_what": (
        "Decir: el entorno ({env}), el hash del plan ({hash}), qué falló (el mensaje de myshift) "
        "y si se hace rollback."
    ),
    "s_stuck": "## 2. Un ALTER atascado (o cualquier sentencia del plan)",
    "find": (
        "Encontrarlo: las sentencias de myshift empiezan por `/* myshift apply {ref}, statement "
        "n/m */`. Esto las lista junto con toda sentencia sobre los objetos del plan, las más "
        "largas primero:"
    ),
    "mdl": (
        "¿Espera un bloqueo de metadatos (STATE `Waiting for table metadata lock`)? Entonces aún "
        "no ha cambiado nada, y se rinde sola a los {lw} s. Las esperas, y después las "
        "transacciones abiertas que suelen tener el bloqueo (una sesión inactiva dentro de una "
        "muestra COMMAND `Sleep`):"
    ),
    "holders": "Quién tiene o espera un bloqueo sobre las tablas del plan:",
    "kill_query": (
        "`KILL QUERY <processlist ID>;` detiene la sentencia y mantiene la sesión: es lo que se "
        "usa con el ALTER de myshift. El servidor deshace el ALTER (uno que copia la tabla "
        "borra su copia enseguida; uno in-place puede tardar: hay que mirar STATE) y myshift "
        "registra el apply como fallido. Ctrl-C en la terminal de myshift, o "
        "`kill <pid de myshift>` (SIGTERM) desde cualquier sitio, hace lo mismo."
    ),
    "kill": (
        "`KILL <processlist ID>;` además cierra la sesión y deshace su transacción abierta: así "
        "se libera un bloqueo de una sesión inactiva dentro de una transacción (KILL QUERY no "
        "le hace nada). Su trabajo sin confirmar se pierde: mejor preguntar antes a quien la abrió."
    ),
    "rds": (
        "En RDS (sin SUPER): `CALL mysql.rds_kill_query(<processlist ID>);` y "
        "`CALL mysql.rds_kill(<processlist ID>);`."
    ),
    "after_kill": "Después, ver dónde se detuvo el apply: `myshift history --to {target}`.",
    "s_online": "## 3. Una ejecución atascada de pt-online-schema-change",
    "online_intro": (
        "Solo si apply dijo que una sentencia va por pt-online-schema-change (tablas: {tables}). "
        "La herramienta crea `_<tabla>_new`, pone tres triggers "
        "`pt_osc_<esquema>_<tabla>_ins/upd/del` en la tabla, copia las filas y luego intercambia "
        "las dos tablas."
    ),
    "online_ps": (
        "Su proceso, en la máquina que ejecutó myshift (un myshift interrumpido la detiene y "
        "limpia; si myshift ya no está, la herramienta puede seguir corriendo):"
    ),
    "online_sessions": "Sus sesiones en el servidor (KILL si el proceso ya no existe):",
    "online_left": "Lo que ha dejado:",
    "online_moved": (
        "Antes de borrar `_{table}_new`: una ejecución detenida justo antes del intercambio puede "
        "haber movido ahí los triggers propios de la tabla (cualquiera que no sea pt_osc_*): "
        "primero hay que volver a crearlos en `{table}` (SHOW CREATE TRIGGER)."
    ),
    "online_clean": (
        "Limpiar `{table}`, solo cuando ya no corre ningún pt-online-schema-change para ella "
        "(myshift se niega a aplicar mientras sus triggers existan):"
    ),
    "online_old": (
        "Si falta `{table}` pero existe `_{table}_old`, el intercambio quedó a medias: hay que "
        "renombrarla de vuelta, y en ese caso nunca borrar `_{table}_old`:"
    ),
    "online_none": (
        "Ninguna sentencia de este plan altera una tabla: nada pasa por la herramienta."
    ),
    "s_rollback": "## 4. Rollback con myshift",
    "rb_history": (
        "El apply y su resultado (uno que falló o se interrumpió a medias también se revierte: "
        "myshift deshace lo que se ejecutó):"
    ),
    "rb_run": (
        "Leer lo que ejecutaría el rollback y después ejecutarlo (no necesita ensayo, ni en un "
        "entorno protegido; los datos conservados vuelven):"
    ),
    "rb_flags": (
        "¿Se niega porque los objetos se cambiaron a mano después? Nombra los cambios: con "
        "`--take-back-outside-changes` también se deshacen. `--lock-wait-timeout N` se rinde "
        "antes en una tabla ocupada; `--keep-data` conserva lo que el rollback borra (por defecto "
        "en un entorno protegido)."
    ),
    "s_manual": "## 5. Rollback sin myshift",
    "manual_intro": (
        "Cuando myshift no puede ejecutarse: las sentencias inversas, derivadas de las dos "
        "instantáneas del fichero de plan, para ejecutar con el cliente mysql en este orden. Si "
        "el apply se detuvo a medias, solo la inversa de lo que se ejecutó (`myshift history {ref} "
        "--to {target}` lo lista, o se revisa cada objeto con SHOW CREATE TABLE)."
    ),
    "manual_kept_first": (
        "Primero, recuperar las tablas que el apply conservó ({tables}): sección 6 (a)."
    ),
    "manual_kept_after": (
        "Después, escribir de vuelta los valores de columnas conservados ({cols}): sección 6 (b)."
    ),
    "manual_parts_after": (
        "Después, devolver por intercambio las filas de particiones conservadas ({parts}): "
        "sección 6 (c)."
    ),
    "manual_loss": (
        "Lo que creó el apply se borra de nuevo con lo que se le haya escrito desde entonces; los "
        "datos borrados sin keep-data no vuelven."
    ),
    "manual_none": "El plan no ejecuta nada: no hay nada que revertir.",
    "kept_note": (
        "vuelve con sus filas por RENAME (sección 6 (a)), no se crea vacía; sus claves foráneas"
    ),
    "s_kept": "## 6. Recuperar a mano una tabla conservada",
    "kept_intro": (
        "Un apply con keep-data mueve entera a `{holding}` la tabla que borra y copia ahí los "
        "valores de las columnas borradas con la clave de fila, y registra cada cosa en "
        "`{holding}`.`_held`. La lista (o `myshift trash list --to {target}`):"
    ),
    "kept_table": (
        "(a) Tabla `{table}`: renombrarla de vuelta y después olvidarla en el catálogo:"
    ),
    "kept_cols": (
        "(b) Columnas {cols} de `{table}`: cuando las columnas vuelvan a existir (la sección 5 "
        "las añade), escribir los valores de vuelta por clave:"
    ),
    "kept_parts": (
        "(c) Filas de la partición {partition} de `{table}`: cuando la partición vuelva a "
        "existir (la sección 5 la crea), devolverlas por intercambio bajo un bloqueo y después "
        "borrar la tabla retenida:"
    ),
    "kept_guess": (
        "`a<ID>` es `a` y el id de historial del apply; un nombre de más de 64 caracteres se corta "
        "y lleva un hash: hay que tomar `held_name` de la lista de arriba."
    ),
    "kept_none": (
        "Este plan no conserva nada (se hizo sin --keep-data, o no borra nada): un objeto borrado "
        "solo vuelve desde una copia de seguridad."
    ),
    "s_after": "## 7. Después",
    "after": (
        "Comprobar: `myshift history --to {target}` (el resultado), `myshift drift --to {target} "
        "--from <el esquema deseado>`, los errores de la aplicación; y avisar al equipo de que "
        "ha terminado."
    ),
}

TEXTS: Final[dict[str, dict[str, str]]] = {"en": EN, "es": ES}
