"""`python -m kit` runs the command-line interface."""

import gc
import sys

try:
    from kit.cli import main
except KeyboardInterrupt:  # Ctrl-C before the command line is read: nothing has started, so nothing to say but that
    print("interrupted; nothing half-written was kept.", file=sys.stderr)
    raise SystemExit(130) from None

code = main()
# Nothing is left to collect at exit; without this, the interpreter's last collection walks every
# object torch, pandas and scikit-learn created, about 0.4 s of a 3 s `kit cv`.
gc.freeze()
raise SystemExit(code)
