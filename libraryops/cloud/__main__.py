"""``python -m libraryops.cloud {plan,apply,drift}`` (see libraryops.cloud.cli)."""

import sys

from libraryops.cloud.cli import main

sys.exit(main())
