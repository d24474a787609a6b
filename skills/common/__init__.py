"""Code the workflow steps share: base-model resolution, checkpoints, MLflow tracking, torch threads,
the job helpers over ``ctx.jobs``, the one progress-event writer every job script uses, and the code
metrics with the use case's choice of them (evaluation scores with them, and so do the train step's sweeps).

A step folder (``skills/<step>/``) imports its own folder, this package, the toolkit modules at the
top of ``skills/``, ``synth`` and ``specs``; never another step (tests/test_layers.py checks it).
"""
