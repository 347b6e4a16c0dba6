"""``python -m graphs`` runs the orchestra CLI."""

import sys

from graphs.cli import main

sys.exit(main())
