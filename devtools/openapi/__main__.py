"""``python -m devtools.openapi``: write docs/openapi.json (``--check``: only say whether it is current)."""

import sys

from devtools.openapi.document import main

sys.exit(main())
