"""A one-line progress bar on stderr, for long calls followed live (a training run).

It draws only where someone watches: stderr a terminal, or a Jupyter kernel (whose stderr is
shown under the cell). Anywhere else (a batch job, a pipe, a service's log) it stays silent, so
logs do not fill with carriage returns. `enabled=True/False` overrides the guess.
"""

from __future__ import annotations

import sys
from typing import Optional, TextIO

_WIDTH = 24


def watched(stream: Optional[TextIO] = None) -> bool:
    """True when `stream` (default stderr) is seen by a person: a TTY or a notebook."""
    stream = stream or sys.stderr
    if "ipykernel" in sys.modules:
        return True
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # Closed, or a stream that is no file.
        return False


class Progress:
    """Draws `label [#####-----] done/total  detail` over itself; `line(text)` prints a line
    that stays (a state change); `close()` ends the bar. Silent when not enabled."""

    def __init__(self, enabled: Optional[bool] = None, stream: Optional[TextIO] = None) -> None:
        self._stream = stream or sys.stderr
        self.enabled = watched(self._stream) if enabled is None else bool(enabled)
        self._drawn = False

    def update(self, label: str, done: float, total: float, detail: str = "") -> None:
        """Redraws the bar at done/total (total <= 0 draws no bar, only the label)."""
        if not self.enabled:
            return
        if total > 0:
            share = min(max(done / total, 0.0), 1.0)
            filled = int(round(share * _WIDTH))
            bar = f" [{'#' * filled}{'-' * (_WIDTH - filled)}] {done:g}/{total:g}"
        else:
            bar = ""
        self._stream.write(f"\r\033[K{label}{bar}  {detail}".rstrip())
        self._stream.flush()
        self._drawn = True

    def line(self, text: str) -> None:
        """Prints `text` on a line of its own, above the bar."""
        if not self.enabled:
            return
        self._stream.write(("\r\033[K" if self._drawn else "") + text + "\n")
        self._stream.flush()
        self._drawn = False

    def close(self) -> None:
        """Leaves the last drawing on screen and moves to the next line."""
        if self.enabled and self._drawn:
            self._stream.write("\n")
            self._stream.flush()
        self._drawn = False

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
