"""A live session writer at 100 Hz in real time, to be killed by test_session_kill.py.

Appends a 5-sample batch every 50 ms (the USB batching), a rep event every 2 s and a
score at every rep end, and after each append prints `appended <samples> <events>` so
the killer knows what the writer had been given. Runs until killed.

    python session_kill_child.py DIRECTORY
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from session_helpers import META, batch

from levelbelt.session import SessionWriter

BATCH = 5
PERIOD_S = BATCH / META.rate_hz


def main() -> None:
    writer = SessionWriter.create(Path(sys.argv[1]), META)
    print(f"path {writer.path}", flush=True)
    start = time.monotonic()
    sent = events = 0
    while True:
        writer.append_samples(batch(sent, BATCH))
        sent += BATCH
        if sent % (2 * META.rate_hz) == 0:
            writer.append_event("engine", {"type": "phase_ended", "rep": events})
            writer.append_score("rep", {"rep": events, "change_deg": -3.5})
            events += 1
        print(f"appended {sent} {events}", flush=True)
        time.sleep(max(0.0, start + sent / META.rate_hz - time.monotonic()))


if __name__ == "__main__":
    main()
