"""Terminal UI (Textual). Only this package imports Textual."""
