import sys

from condgan.cli import main

sys.exit(main())
