"""The untrusted side of grading: everything that runs in the processes that hold submitted code.

    launcher.py   the forkserver: enters namespaces, imports torch once, forks one worker per request
    walls.py      what stands around a worker: namespaces, mounts, capabilities, seccomp, Landlock, rlimits
    hooks.py      audit and import hooks (a deterrent, not a wall)
    worker.py     loads the submission from its source and answers calls
    tracer.py     records what a call dispatched (a teacher: the worker could lie about it)
    harnesses/    worker-side scenarios (gradients, checkpointed models)

Nothing here decides a grade. These modules import the standard library, torch, pyseccomp and
``quizgen.wire`` (the frame and value format shared with the trusted side), and nothing else of
quizgen; ``tests/test_layout.py`` keeps it so.
"""
