"""ambsim entry point: ``python main.py`` does the same as the ``ambsim`` console script."""

import sys

from ambsim_gui.cli import main

if __name__ == "__main__":
    sys.exit(main())
