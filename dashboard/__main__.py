"""``python -m dashboard`` is the ``gridcc`` command."""
import sys

from dashboard.cli import main

sys.exit(main())
