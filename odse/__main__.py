"""``python -m odse``: the same command line as the ``odse`` script."""

from odse.cli import main

if __name__ == "__main__":
    main()
