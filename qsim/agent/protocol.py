"""What the controller and the agent agree on (both sides import this).

The controller hands every process of the traced program one environment
variable, ``QSIM_TRACE``: a JSON object with

``address``
    the Unix socket the agent connects to (in a private 0700 folder);
``authkey``
    hex of the random key ``multiprocessing.connection`` authenticates with;
``dir``
    that private folder: it also holds the control block and the queue registry.

Run control reaches the agents through shared memory, as in scenario runs:
the control block (a small file every process maps) holds the pause and stop
bytes, the speed, the single-step permits and each actor's sent-event count.
"""

from __future__ import annotations

import struct

from qsim.model.events import FLAG_INTERNAL as FLAG_INTERNAL
from qsim.model.events import QUEUE_KINDS as QUEUE_KINDS

ENV = "QSIM_TRACE"
SOCKET_NAME = "agent.sock"
CONTROL_NAME = "control"
REGISTRY_NAME = "queues"
#: first message on a new connection, controller -> agent: the actor index
HELLO = struct.Struct("<i")

# control block layout
PAUSED = 0  # u8
STOP = 1  # u8
LINES = 2  # u8: 1 while someone looks at the code: track every line (not only samples)
SPEED = 8  # f64
PERMITS = 16  # i64, under the block's file lock
PENDING = 24  # i64, steps asked for and not yet used (same lock)
THROTTLE = 32  # i64: microseconds a process waits after each batch it sends (0: none)
EMITTED = 64  # i64 per actor: events that actor has sent
MAX_TRACED_ACTORS = 4096
CONTROL_SIZE = EMITTED + 8 * MAX_TRACED_ACTORS
F64 = struct.Struct("<d")
I64 = struct.Struct("<q")

#: tuple that wraps every object a traced put sends: (MARK, item id, object)
MARK = 0x7173696D  # "qsim"
MAX_QUEUES = 32767  # the record's queue field is an int16
