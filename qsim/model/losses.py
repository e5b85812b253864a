"""Where the items went when a process was killed: the reducer's rules.

A killed process says nothing more: the events it had not sent yet die with
it, and so do the items it was holding, the items in its queues' feeder
buffers, and an item it was half-way through writing. The accounting must
still close (produced = consumed + in queues + in hands + lost) with every
lost item named and its reason given. ``LossRules`` is mixed into the
``Reducer``; what it knows comes only from events (so a replay settles the
same way), and these are its rules:

1. **In its hands.** A process that crashed, or was stopped, loses what it
   held: ``in C1's hands when it crashed (exit code -9)``.
2. **Half-written.** A get that waited for the rest of an item whose bytes
   stopped coming (``GET_STALLED``; the item's id is read off its first
   bytes) and never got it: when the reader leaves, the item is lost,
   ``half-written by P1 when it was killed`` (``... when its writer
   stopped`` if the writer did not crash).
3. **Put, never reported.** An item got whose put never arrived, from a
   queue one of whose putters crashed: the PUT_DONE died with the putter. At
   the end it is counted as produced and put, with a note, not as a
   violation. The same for a half-written item nobody reported putting.
4. **Not in the pipe.** Once every process has ended (after a crash), the
   controller reads what is left in each queue's pipe: the item of each
   whole message (``LEFT_IN_PIPE``), a torn last one (``TORN_TAIL``), then
   ``PIPE_SAMPLE`` with ``FINAL_SAMPLE``. An item the queue seemed to hold
   that is not whole in the pipe is where no get can reach it: half-written
   (the torn one), ``in P1's feeder buffer when it was killed`` (its putter
   crashed; a ``SimpleQueue`` has no feeder), ``got by C1, which was killed
   before it said so`` (a getter crashed: its GET_DONE died with it), or
   ``in P1's feeder buffer when the run stopped`` (a stopped process drops
   its feeder buffer).
5. **Died with the manager.** A queue whose server process ended
   (``QUEUE_LOST``): everything in it is lost, ``died with the manager
   (exit code -9)``.

Items nobody ever reported (put by a killed producer, never got) were never
counted as produced, so they need no rule.
"""

from __future__ import annotations

from collections.abc import Callable

from qsim.model.entities import CRASHED, WAITING_GET, Accounting, ActorState, QueueState
from qsim.model.events import (
    FINAL_SAMPLE,
    LEFT_UNKNOWN,
    TORN_TAIL,
    Event,
    is_sentinel,
    item_origin,
)
from qsim.model.topology import ActorInfo, Topology
from qsim.model.wire import VT_INT


class LossRules:
    """Mixin of ``Reducer``: what a killed process took with it."""

    topology: Topology
    actors: list[ActorState]
    queues: list[QueueState]
    acct: Accounting
    entry_size: dict[int, int]
    priority: dict[int, int]
    _early_gets: dict[int, tuple[int, int]]

    def _set(self, actor: ActorState, state: str, t: int) -> None:  # the Reducer's
        raise NotImplementedError

    def _label(self, item: int) -> str:  # the Reducer's
        raise NotImplementedError

    def note(self, t: int, text: str, actor: int = -1, holds_while: str = "") -> None:
        raise NotImplementedError

    # ------------------------------------------------------------ helpers
    def _lose(self, item: int, n: int, why: str, where: str = "") -> None:
        """Count ``n`` items of entry ``item`` as lost, saying why (and in which
        queue): ``P1#3 in q: why``, ``P1#64 (64 items): why``."""
        self.acct.lost += n
        self.acct.lost_reasons.append(f"{self._lost_label(item, n, where)}: {why}")

    def _lost_label(self, item: int, n: int, where: str = "") -> str:
        label = self._label(item) if n == 1 else f"{self._label(item)} ({n} items)"
        return f"{label} in {where}" if where else label

    def _putters(self, qi: int) -> list[ActorInfo]:
        return [a for a in self.topology.actors if a.output_queue == qi]

    def _getters(self, qi: int) -> list[ActorInfo]:
        return [a for a in self.topology.actors if a.input_queue == qi]

    def _crashed(self, infos: list[ActorInfo]) -> list[ActorState]:
        return [self.actors[a.index] for a in infos if self.actors[a.index].state == CRASHED]

    def _writer_of(self, item: int, qi: int) -> ActorState | None:
        """The putter of ``item`` into queue ``qi``, if it crashed: the producer
        that made it, or (an item a stage passes on keeps its producer's id)
        the one stage worker of that queue that crashed."""
        putters = self._putters(qi)
        origin = item_origin(item)
        if any(a.index == origin for a in putters):
            a = self.actors[origin]
            return a if a.state == CRASHED else None
        dead = self._crashed(putters)
        return dead[0] if len(dead) == 1 else None

    def _settle_put(self, item: int, qi: int, writer: ActorState, n: int) -> None:
        """Count an item as produced and put whose PUT_DONE died with ``writer``."""
        q = self.queues[qi]
        q.puts += 1
        writer.items += n
        if writer.role == "producer":
            self.acct.produced += n
        elif writer.role == "stage":  # its crash counted the item lost from its hands
            self._unlose(item, n)

    def _unlose(self, item: int, n: int) -> None:
        head = self._lost_label(item, n)
        reasons = self.acct.lost_reasons
        for k, why in enumerate(reasons):
            if why.startswith(head + ": "):
                del reasons[k]
                self.acct.lost -= n
                return

    # ------------------------------------------------------------ rule 2
    def _on_get_stalled(self, e: Event) -> None:
        a = self.actors[e[2]]
        if a.state != WAITING_GET:
            self._set(a, WAITING_GET, e[0])
        a.queue = a.torn_queue = e[5]
        a.torn_item = e[4]
        a.torn_bytes = str(e[6] or "")
        self._say_torn(a, e[0])

    def _say_torn(self, a: ActorState, t: int) -> None:
        q = self.queues[a.torn_queue]
        what = f" ({self._label(a.torn_item)})" if a.torn_item else ""
        writer = self._writer_of(a.torn_item, q.index)
        why = (
            f"{writer.name} died in the middle of putting it (exit code {writer.exit_code})"
            if writer is not None
            else f"its writer stopped in the middle of it ({a.torn_bytes})"
        )
        text = f"{a.name} is blocked reading a half-written item{what} from {q.id}: {why}"
        self.note(t, text, a.index, WAITING_GET)

    def _torn_writer_died(self, dead: ActorState, t: int) -> None:
        """``dead`` crashed: readers stalled on its half-written item are told why."""
        for a in self.actors:
            if a.torn_queue >= 0 and self._writer_of(a.torn_item, a.torn_queue) is dead:
                self._say_torn(a, t)

    def _torn_over(self, a: ActorState, got: bool) -> None:
        """``a`` got its item after all (``got``), or left without it: lost."""
        qi, item = a.torn_queue, a.torn_item
        a.torn_queue, a.torn_item, a.torn_bytes = -1, 0, ""
        if got or not item:
            return
        q = self.queues[qi]
        writer = self._writer_of(item, qi)
        n = self.entry_size.pop(item, 1)
        if not q.remove(item, self.priority):  # its put was never reported: died with it
            if writer is None:
                return
            self._settle_put(item, qi, writer, n)
        why = (
            f"half-written by {writer.name} when it was killed"
            if writer is not None
            else "half-written: its writer stopped in the middle of it"
        )
        self._lose(item, n, why, q.id)
        q.torn_lost = item

    # ------------------------------------------------------------ rule 3
    def _settle_early_gets(self, violation: Callable[[str], None]) -> None:
        """At the end: gets whose put never came (see rule 3)."""
        for item, (qi, t) in self._early_gets.items():
            q = self.queues[qi]
            writer = self._writer_of(item, qi)
            if writer is None:
                violation(f"{self._label(item)} was got from {q.id} but never put")
                continue
            if is_sentinel(item):
                continue
            self._settle_put(item, qi, writer, self.entry_size.get(item, 1))
            self.note(
                t,
                f"{self._label(item)} was got from {q.id}; its put was never reported: "
                f"{writer.name} was killed before it sent its last events",
            )
        self._early_gets.clear()

    # ------------------------------------------------------------ rule 4
    def _on_left_in_pipe(self, e: Event) -> None:
        q = self.queues[e[5]]
        if e[9] & TORN_TAIL:
            q.torn_left = e[4] or -1
        else:
            q.left_in_pipe[e[4]] = e[6] if e[8] == VT_INT else 0  # type: ignore[assignment]

    def _on_pipe_sample(self, e: Event) -> None:
        q = self.queues[e[5]]
        q.fionread = e[6] if e[8] == VT_INT else -1  # type: ignore[assignment]
        if e[7]:
            q.pipe_capacity = e[7]
        if e[9] & FINAL_SAMPLE:
            q.pipe_final = q.fionread
            if not e[9] & LEFT_UNKNOWN:
                self._settle_queue(q)

    def _settle_queue(self, q: QueueState) -> None:
        """Every process has ended and the controller said what is left in the
        pipe (``LEFT_IN_PIPE``): the rest of what the queue seemed to hold
        was somewhere no get can reach (rule 4)."""
        dead_getters = self._crashed(self._getters(q.index))
        left = q.left_in_pipe
        torn = q.torn_left
        for item in [i for i in (*q.contents, *q.overflow) if i not in left]:
            q.remove(item, self.priority)
            self._forget_written(q, item)
            if not is_sentinel(item):
                why = self._where_it_was(q, item, dead_getters)
                self._lose(item, self.entry_size.pop(item, 1), why, q.id)
            if item == torn:
                q.torn_lost = torn
        if torn > 0 and torn != q.torn_lost:  # half-written, and nobody said it was put
            writer = self._writer_of(torn, q.index)
            if writer is not None:
                n = self.entry_size.pop(torn, 1)
                self._settle_put(torn, q.index, writer, n)
                self._lose(torn, n, self._where_it_was(q, torn, dead_getters), q.id)
        q.torn_lost = torn

    def _where_it_was(self, q: QueueState, item: int, dead_getters: list[ActorState]) -> str:
        """Why ``item`` is lost: it was in the queue, but not whole in its pipe."""
        writer = self._writer_of(item, q.index)
        if item == q.torn_left:
            if writer is not None:
                return f"half-written by {writer.name} when it was killed"
            return "half-written: its writer stopped in the middle of it"
        if writer is not None and q.kind != "SimpleQueue":
            return f"in {writer.name}'s feeder buffer when it was killed"
        if dead_getters:
            by = dead_getters[0].name if len(dead_getters) == 1 else "a consumer"
            return f"got by {by}, which was killed before it said so"
        origin = item_origin(item)
        if q.kind != "SimpleQueue" and any(a.index == origin for a in self._putters(q.index)):
            return f"in {self.actors[origin].name}'s feeder buffer when the run stopped"
        return "not in the pipe when the run ended"

    def _forget_written(self, q: QueueState, item: int) -> None:
        """``item`` is gone: out of what a watched queue says is in its buffers and pipe."""
        q.buffered.pop(item, None)
        size = q.piped.pop(item, None)
        if size is not None:
            q.pipe_bytes -= size
            q.pipe.remove(item)

    # ------------------------------------------------------------ rule 5
    def _on_queue_lost(self, e: Event) -> None:
        q = self.queues[e[5]]
        why = str(e[6] or "gone")
        items = [i for i in (*q.contents, *q.overflow) if not is_sentinel(i)]
        for item in items:
            self._lose(item, self.entry_size.pop(item, 1), why, q.id)
        q.contents.clear()
        q.overflow.clear()
        q.lost_why = why
        self.note(e[0], f"{q.id}: its {len(items)} items {why}")
