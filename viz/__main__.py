"""python -m minigrad.viz: see viz/cli.py."""
import sys

from minigrad.viz.cli import main

sys.exit(main())
