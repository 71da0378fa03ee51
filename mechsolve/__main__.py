import sys

from mechsolve.cli import main

sys.exit(main())
