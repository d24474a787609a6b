"""``python -m assistant`` is the ``tunesmith`` command."""

from assistant.cli import main

raise SystemExit(main())
