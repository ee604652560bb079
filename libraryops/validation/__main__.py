"""``python -m libraryops.validation <site-dir>`` (what ``make validate`` runs)."""

import sys

from libraryops.validation.run import main

sys.exit(main())
