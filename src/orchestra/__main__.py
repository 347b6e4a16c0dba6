"""``python -m orchestra`` runs the orchestra CLI."""

import sys

from orchestra.graphs.cli import main

sys.exit(main())
