"""python -m viz: see viz/cli.py."""
import sys

from viz.cli import main

sys.exit(main())
