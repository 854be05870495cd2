"""Session files (docs/session-format.md): one append-only file per session and athlete.

`SessionWriter` records a live session; `read_session` reads one back (leniently by
default, listing problems by file and line); `export_csv` turns one into spreadsheets.
"""

from levelbelt.session.export import export_csv
from levelbelt.session.meta import (
    SessionMeta,
    belt_event_json,
    calibration_json,
    detector_json,
    firmware_text,
)
from levelbelt.session.reader import (
    EventRecord,
    FutureSchemaError,
    GapRecord,
    Problem,
    Samples,
    ScoreRecord,
    Session,
    SessionHeader,
    Summary,
    read_header,
    read_session,
)
from levelbelt.session.records import SCHEMA, SUFFIX
from levelbelt.session.writer import (
    SessionExistsError,
    SessionWriteError,
    SessionWriter,
    session_file_name,
)

__all__ = [
    "SCHEMA",
    "SUFFIX",
    "EventRecord",
    "FutureSchemaError",
    "GapRecord",
    "Problem",
    "Samples",
    "ScoreRecord",
    "Session",
    "SessionExistsError",
    "SessionHeader",
    "SessionMeta",
    "SessionWriteError",
    "SessionWriter",
    "Summary",
    "belt_event_json",
    "calibration_json",
    "detector_json",
    "export_csv",
    "firmware_text",
    "read_header",
    "read_session",
    "session_file_name",
]
