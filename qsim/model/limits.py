"""What a scenario may ask for: the one place the validator and the engine agree on.

``qsim validate`` refuses anything beyond these limits with a message naming
the field, so that a scenario that validates is one the engine can run and
the window can draw. The engine sizes its shared arrays from the same
constants (``qsim.engine.control``, ``qsim.engine.run``).

Measured on a 2-core Linux machine (see the README's Architecture section):
65 spawned workers take ~9 s to start and ~14 MB each; the diagram lays out
242 actors and 64 queues in < 0.1 s; a lesson text of 16,000 characters
renders in < 1 s even as one long table, 64,000 take up to 7 s; tomllib
needs memory quadratic in the parts of one dotted key (8,000 parts: 266 MB)
and overflows Python's stack at a few hundred nested brackets.
"""

from __future__ import annotations

# ------------------------------------------------------------------ processes
#: actors of one run: ``main`` plus every producer and consumer process
#: (RunControl's per-actor arrays have this many slots)
MAX_ACTORS = 256
#: processes one ``[[producers]]`` or ``[[consumers]]`` table may ask for (``count``)
MAX_PER_GROUP = 16
#: ``[[producers]]`` tables, and ``[[consumers]]`` tables (RunControl's per-group slots)
MAX_GROUPS = 64
#: ``[[queues]]`` tables (RunControl's per-queue slots; each queue holds a pipe and locks)
MAX_QUEUES = 64
#: ``[[knobs]]`` tables (one spin box each in the "Lesson controls" dock)
MAX_KNOBS = 24

# ---------------------------------------------------------------------- items
#: items one producer makes: item ids are ``actor * ITEM_BASE + n`` with
#: ``ITEM_BASE = 2**32`` (qsim.model.events), so ``n`` must stay below it
MAX_ITEMS = 999_999
#: bytes of one item's payload (the large-objects lesson goes up to 16 MB)
MAX_PAYLOAD_BYTES = 16 * 1024 * 1024
#: bytes that may wait as separate copies in one queue: a manager's queue, a
#: queue a pipeline stage forwards into, or shared-memory blocks (maxsize x payload)
MAX_HELD_BYTES = 1024 * 1024 * 1024
#: ``records`` of one producer, and characters of one record
MAX_RECORDS = 10_000
MAX_RECORD_CHARS = 1000
#: entries of ``priorities`` (and ``priority_weights``)
MAX_PRIORITIES = 100
#: STOPs one producer, or main, puts
MAX_SENTINELS = 64

# ------------------------------------------------------------------ durations
#: seconds: a run, a producer's duration
MAX_SECONDS = 3600.0
#: seconds: one item's interval or work time, one put/get timeout
MAX_STEP_SECONDS = 60.0

# ---------------------------------------------------------------------- texts
#: ``[scenario] id``: lower-case letters, digits and dashes
MAX_SCENARIO_ID_CHARS = 32
#: a queue id: letters, digits, ``_`` and ``-`` (no ``.``: knob paths are dotted)
MAX_QUEUE_ID_CHARS = 32
#: a producer/consumer id: drawn with a worker number after it (``P1``, ``parse2``)
MAX_ACTOR_ID_CHARS = 12
MAX_TITLE_CHARS = 120
MAX_SUMMARY_CHARS = 1000
#: a lesson text (``lesson = ...`` or the ``.md`` file beside the scenario)
MAX_LESSON_CHARS = 16_000
MAX_KNOB_NAME_CHARS = 60
MAX_TOOLTIP_CHARS = 500
MAX_LABEL_CHARS = 24

# ---------------------------------------------------------------------- files
#: bytes of a scenario file (the largest built-in lesson has ~3.5 KB)
MAX_FILE_BYTES = 1024 * 1024
#: bytes of a lesson ``.md`` (UTF-8: up to 4 bytes a character)
MAX_LESSON_BYTES = 4 * MAX_LESSON_CHARS
#: ``[`` / ``{`` nesting of one value, and parts of one dotted key
MAX_NESTING = 16
MAX_KEY_PARTS = 16
#: ``[table]`` / ``[[table]]`` headers in one file
MAX_TABLES = 2 * MAX_GROUPS + MAX_QUEUES + MAX_KNOBS + 8

# ------------------------------------------------------------ program lessons
#: bytes of a lesson's program (``resources/programs/NN-id.py``; the largest has ~3 KB)
MAX_PROGRAM_BYTES = 256 * 1024
#: what a program lesson's number knob may range over (it becomes a command-line argument)
PROGRAM_KNOB_RANGE = (-1e9, 1e9)
#: a knob's command-line option (``--items``), and the values of a choice knob
MAX_ARG_CHARS = 40
MAX_CHOICES = 16

# ---------------------------------------------------------------- field ranges
#: the numeric fields of each table and the values they may take. A knob may
#: change exactly these fields (``knobs[].path = "SECTION.ID.FIELD"``), within them.
RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "queues": {"maxsize": (0, 100_000)},
    "producers": {
        "count": (1, MAX_PER_GROUP),
        "items": (0, MAX_ITEMS),
        "duration": (0, MAX_SECONDS),
        "interval": (0, MAX_STEP_SECONDS),
        "payload_bytes": (0, MAX_PAYLOAD_BYTES),
        "batch_size": (1, 1000),
        "failure_rate": (0, 1),
        "sentinels": (0, MAX_SENTINELS),
        "put_timeout": (0, MAX_STEP_SECONDS),
        "crash_after": (0, MAX_ITEMS),
    },
    "consumers": {
        "count": (1, MAX_PER_GROUP),
        "work_time": (0, MAX_STEP_SECONDS),
        "failure_rate": (0, 1),
        "get_timeout": (0, MAX_STEP_SECONDS),
        "stop_after_timeouts": (0, 1000),
        "crash_after": (0, MAX_ITEMS),
    },
    "main": {"sentinels": (0, MAX_SENTINELS)},
    "run": {
        "seed": (0, 2**32 - 1),
        "duration": (0.1, MAX_SECONDS),
        "speed": (0.1, 10),
        "hang_after": (0.5, 600),
    },
}
#: priority values a producer may draw
PRIORITY_RANGE = (0, 1000)
