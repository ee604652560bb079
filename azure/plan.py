"""`make azure-plan SITE=...`: thin entry point over libraryops.cloud.cli (see its usage).

There is deliberately no azure/__init__.py: this directory must never shadow the SDK's
`azure` namespace.
"""

import sys

from libraryops.cloud.cli import main

sys.exit(main(["plan", *sys.argv[1:]]))
