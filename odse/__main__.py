"""``python -m odse``: the same command line as the ``odse`` script."""

import sys

from odse.cli import main

if __name__ == "__main__":
    sys.exit(main())
