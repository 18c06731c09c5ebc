"""``python -m nndl`` runs the command line."""

import sys

from nndl.cli import main

sys.exit(main())
