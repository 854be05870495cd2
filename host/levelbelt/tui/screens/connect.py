"""Connect: pick a belt found by Bluetooth scan, a USB port, or the simulated belt.

The last belt used is listed first. Opening a belt runs in a worker thread (a USB belt
gets a few seconds to answer), and every failure ends as one clear line on screen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from levelbelt.errors import LevelBeltError
from levelbelt.feeds import BeltFeed
from levelbelt.tui import discovery
from levelbelt.tui.discovery import Candidate, candidates
from levelbelt.tui.drill_view import DrillDriver
from levelbelt.tui.prefs import BeltRef

if TYPE_CHECKING:
    from levelbelt.tui.app import DashboardApp


def candidate_label(c: Candidate) -> str:
    star = "[b]last used[/b] · " if c.last_used else ""
    return f"{star}{c.ref.name}  [dim]{c.detail}[/dim]"


class ConnectScreen(Screen[None]):
    DEFAULT_CSS = """
    ConnectScreen { layout: vertical; }
    #connect-top { height: 1; background: $primary-darken-2; padding: 0 1; }
    #connect-help { height: auto; padding: 1 2 0 2; color: $text-muted; }
    #belts { height: 1fr; margin: 1 2; border: round $primary; }
    #connected { height: auto; padding: 0 2; color: $success; }
    #connect-state { height: auto; max-height: 4; padding: 0 2; }
    #connect-state.error { color: $error; text-style: bold; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "connect", "Connect", show=False),
        Binding("f5", "rescan", "Rescan", key_display="F5"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.offer: list[Candidate] = []
        self.ble: list[Candidate] = []
        self.ble_note = "Bluetooth: scanning…"
        self.busy = False

    @property
    def dashboard(self) -> DashboardApp:
        from levelbelt.tui.app import DashboardApp

        assert isinstance(self.app, DashboardApp)
        return self.app

    def compose(self) -> ComposeResult:
        yield Static("LevelBelt · connect a belt", id="connect-top")
        yield Static("Choose a belt with ↑/↓ and press enter. F5 looks again.",
                     id="connect-help")
        yield OptionList(id="belts")
        yield Static("", id="connected")
        yield Static("", id="connect-state")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.refresh_list()
        self.scan_ble()

    def refresh_list(self) -> None:
        self.offer, summary = candidates(self.dashboard.prefs.last_belt, self.ble)
        belts = self.query_one("#belts", OptionList)
        belts.clear_options()
        belts.add_options([Option(candidate_label(c)) for c in self.offer])
        belts.highlighted = 0
        self.query_one("#connect-state", Static).update(f"{summary} · {self.ble_note}")
        names = [m.feed.label for m in self.dashboard.models]
        self.query_one("#connected", Static).update(
            f"connected: {', '.join(names)}" if names else "")

    def _set_state(self, text: str, error: bool = False) -> None:
        state = self.query_one("#connect-state", Static)
        state.update(text)
        state.set_class(error, "error")

    @work(thread=True, exclusive=True, group="ble-scan")
    def scan_ble(self) -> None:
        note, found = discovery.ble_candidates()
        self.app.call_from_thread(self._scanned, note, found)

    def _scanned(self, note: str, found: list[Candidate]) -> None:
        self.ble, self.ble_note = found, note
        self.refresh_list()

    def action_rescan(self) -> None:
        self.ble_note = "Bluetooth: scanning…"
        self.refresh_list()
        self.scan_ble()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self._connect(event.option_index)

    def action_connect(self) -> None:
        index = self.query_one("#belts", OptionList).highlighted
        if index is not None:
            self._connect(index)

    def _connect(self, index: int) -> None:
        if self.busy or not 0 <= index < len(self.offer):
            return
        ref = self.offer[index].ref
        if any(m.feed.label == ref.name for m in self.dashboard.models):
            self._set_state(f"{ref.name} is already connected")
            return
        self.busy = True
        self._set_state(f"connecting to {ref.name}…")
        self.open_belt(ref)

    @work(thread=True, exclusive=True, group="open")
    def open_belt(self, ref: BeltRef) -> None:
        opener = self.dashboard.opener or discovery.open_feed
        try:
            feed, driver = opener(ref)
        except LevelBeltError as e:
            self.app.call_from_thread(self._failed, str(e))
            return
        self.app.call_from_thread(self._opened, ref, feed, driver)

    def _failed(self, message: str) -> None:
        self.busy = False
        self._set_state(message, error=True)

    def _opened(self, ref: BeltRef, feed: BeltFeed, driver: DrillDriver | None) -> None:
        self.busy = False
        self.dashboard.add_feed(ref, feed, driver)
        self._set_state(f"connected to {ref.name}: calibrate next")
        self.refresh_list()
        self.dashboard.action_show("calibrate")
