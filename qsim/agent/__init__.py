"""What runs inside every process of a traced program (``qsim trace``).

Stdlib only: this package is imported into the user's program and all its
children. It patches ``multiprocessing`` so that every real queue operation is
reported, through the one event format (``qsim.model.wire``), to the
controller (``qsim.engine.trace``), and waits at the controller's pause gate.
"""
