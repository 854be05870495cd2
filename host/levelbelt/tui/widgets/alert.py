"""The hip-drop alert bar: flashes while the belt buzzes, names the side that dropped.

Between alerts it shows the latest status message (dim), one that replaces the last.
"""

from __future__ import annotations

from textual.widgets import Static

from levelbelt.tui.belt_model import AlertView


def alert_text(alert: AlertView) -> str:
    stance = f" · standing on {alert.stance.upper()}" if alert.stance in ("left", "right") else ""
    return f"HIP DROP · {alert.side.upper()} SIDE LOW · {alert.peak_deg:.1f}°{stance}"


class DropAlertBar(Static):
    DEFAULT_CSS = """
    DropAlertBar { height: 3; content-align: center middle; text-style: bold; }
    DropAlertBar.on { background: $error; color: $text; }
    DropAlertBar.on.dim { background: $error-darken-3; }
    DropAlertBar.message { text-style: none; color: $text-muted; }
    """

    def __init__(self, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._shown: tuple[AlertView | None, str] | None = None

    def show(self, alert: AlertView | None, message: str = "") -> None:
        if (alert, message) == self._shown:
            return
        self._shown = (alert, message)
        self.set_class(alert is not None, "on")
        self.set_class(alert is not None and not alert.flash_on, "dim")
        self.set_class(alert is None and bool(message), "message")
        self.update(alert_text(alert) if alert else message, layout=False)
