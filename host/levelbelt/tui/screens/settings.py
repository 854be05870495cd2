"""Settings: the plan, the athlete, the weaker side, and the hip-drop detector (threshold,
dwell and release) per exercise and standing leg.

Values are checked against the belt's own limits before saving; a bad field is named
in one line and nothing is saved until it is fixed (the other fields keep their text).
The belt receives the detector settings for each exercise as its phases start; the plan
and weaker side apply to the next session started with enter on the drill screen.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid
from textual.screen import Screen
from textual.widgets import Footer, Label, Select, Static

from levelbelt.errors import ConfigError
from levelbelt.plans import builtin_names
from levelbelt.tui.prefs import (
    DEFAULT_PLAN,
    EXERCISES,
    SIDES,
    WEAKER_CHOICES,
    DashboardPrefs,
    DetectorPrefs,
)
from levelbelt.tui.widgets.calm_input import CalmInput

if TYPE_CHECKING:
    from levelbelt.tui.app import DashboardApp

FIELDS = ("threshold_deg", "dwell_ms", "release_deg")
HEADINGS = ("", "threshold (°)", "dwell (ms)", "release (°)")
WEAKER_LABELS = {"auto": "from the last sessions", "left": "left (set by hand)",
                 "right": "right (set by hand)", "none": "none (equal volume)"}


def _fmt(value: float) -> str:
    return f"{value:g}"


class SettingsScreen(Screen[None]):
    DEFAULT_CSS = """
    SettingsScreen { layout: vertical; }
    #settings-top { height: 1; background: $primary-darken-2; padding: 0 1; }
    #settings-help { height: auto; padding: 1 2 0 2; color: $text-muted; }
    #session { grid-size: 2; grid-columns: 24 1fr; grid-rows: 1; grid-gutter: 1 2;
               height: auto; margin: 1 2 0 2; }
    #detector { grid-size: 4; grid-columns: 24 1fr 1fr 1fr; grid-rows: 1;
                height: auto; margin: 1 2 0 2; grid-gutter: 1 2; }
    SettingsScreen Label { height: 1; }
    #detector .heading { color: $text-muted; }
    SettingsScreen Input { height: 1; background: $boost; }
    SettingsScreen Input:focus { background: $accent 30%; }
    SettingsScreen Select { height: 1; }
    SettingsScreen Select:focus > SelectCurrent { background: $accent 30%; }
    #settings-state { height: 2; padding: 0 2; margin: 1 0 0 0; }
    #settings-state.error { color: $error; text-style: bold; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save settings",
                tooltip="Save settings and leave the field"),
        Binding("escape", "revert", "Revert",
                tooltip="Revert to the saved settings and leave the field"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._loaded: tuple[object, ...] = ()  # the form as last loaded or saved

    @property
    def dashboard(self) -> DashboardApp:
        from levelbelt.tui.app import DashboardApp

        assert isinstance(self.app, DashboardApp)
        return self.app

    def compose(self) -> ComposeResult:
        yield Static("LevelBelt · settings", id="settings-top")
        yield Static("Tab moves between fields, ctrl+s saves, esc reverts; both leave the "
                     "field so the screen keys work again. The plan starts with enter on "
                     "the drill screen.", id="settings-help")
        with Grid(id="session"):
            yield Label("plan")
            yield Select([(n, n) for n in self._plans()], id="plan", compact=True,
                         allow_blank=False, value=DEFAULT_PLAN)
            yield Label("athlete")
            yield CalmInput(id="athlete", compact=True, max_length=40)
            yield Label("weaker side")
            yield Select([(WEAKER_LABELS[c], c) for c in WEAKER_CHOICES], id="weaker",
                         compact=True, allow_blank=False, value="auto")
        with Grid(id="detector"):
            for h in HEADINGS:
                yield Label(h, classes="heading")
            for ex in EXERCISES:
                for side in SIDES:
                    yield Label(f"{ex} · {side} leg")
                    for name in FIELDS:
                        yield CalmInput(id=f"{ex}-{side}-{name}", type="number",
                                        classes="detector-field", compact=True)
        yield Static("", id="settings-state")
        yield Footer(compact=True, show_command_palette=False)

    def _plans(self) -> list[str]:
        """The built-in plans, plus the user's plan file if one is chosen."""
        names = list(builtin_names())
        mine = self.dashboard.prefs.plan
        return [*names, mine] if mine and mine not in names else names

    def on_mount(self) -> None:
        self._load(self.dashboard.prefs)

    def action_revert(self) -> None:
        """Back to the saved settings, out of the field: a text field takes every
        letter, so leaving it is what gives the screen keys (c k d v r s q ?) back."""
        changed = self._changed()
        self._load(self.dashboard.prefs)
        self.set_focus(None)
        self._state("unsaved changes dropped" if changed else "")

    def _changed(self) -> bool:
        return self._form_values() != self._loaded

    def _form_values(self) -> tuple[object, ...]:
        return tuple(w.value for w in self.query("CalmInput, Select").results()
                     if isinstance(w, (CalmInput, Select)))

    def _load(self, prefs: DashboardPrefs) -> None:
        for ex in EXERCISES:
            for side in SIDES:
                d = prefs.detector_for(ex, side)
                for name in FIELDS:
                    self.query_one(f"#{ex}-{side}-{name}", CalmInput).value = _fmt(
                        getattr(d, name))
        self.query_one("#plan", Select).value = prefs.plan or DEFAULT_PLAN
        self.query_one("#athlete", CalmInput).value = prefs.athlete
        self.query_one("#weaker", Select).value = prefs.weaker
        self._loaded = self._form_values()

    def _state(self, text: str, error: bool = False) -> None:
        state = self.query_one("#settings-state", Static)
        state.update(text)
        state.set_class(error, "error")

    def read_form(self) -> DashboardPrefs:
        """The form as settings; `ConfigError` names the first bad field."""
        plan = self.query_one("#plan", Select).value
        weaker = self.query_one("#weaker", Select).value
        athlete = self.query_one("#athlete", CalmInput).value.strip()
        if not athlete:
            raise ConfigError("athlete: a name is needed (it labels the session files)")
        prefs = replace(self.dashboard.prefs, plan=str(plan), athlete=athlete,
                        weaker=str(weaker))
        for ex in EXERCISES:
            for side in SIDES:
                raw = {n: self.query_one(f"#{ex}-{side}-{n}", CalmInput).value.strip()
                       for n in FIELDS}
                try:
                    d = DetectorPrefs(float(raw["threshold_deg"]), int(raw["dwell_ms"]),
                                      float(raw["release_deg"]))
                except ValueError:
                    raise ConfigError(f"{ex} · {side} leg: numbers only (dwell in whole "
                                      "milliseconds)") from None
                except ConfigError as e:
                    raise ConfigError(f"{ex} · {side} leg: {e}") from None
                prefs = prefs.with_detector(ex, side, d)
        return prefs

    def action_save(self) -> None:
        try:
            prefs = self.read_form()
        except ConfigError as e:
            self._state(str(e), error=True)
            return
        self.dashboard.save_prefs(prefs)
        self._loaded = self._form_values()
        self.set_focus(None)
        self._state(f"saved to {self.dashboard.store.path}")
