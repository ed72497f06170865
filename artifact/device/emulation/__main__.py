"""`python -m artifact.device.emulation tx2|orin|x86 ROOT` (see artifact.device.emulation.cli)."""
# Device side: must import on Python 3.6 (TX2 images).
import sys

from artifact.device.emulation.cli import main

if __name__ == "__main__":
    sys.exit(main())
