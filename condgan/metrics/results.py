"""What an evaluation returns: metric name -> {value, protocol, ...} as card.json stores it."""
from __future__ import annotations


class EvaluationResults(dict):
    """Metric name -> entry, as written into card.json; `card` is the `CardUpdate` that says
    which of them went into the card (None when the card was not to be written)."""

    card = None

    def card_report(self) -> str:
        """What happened to the card, one line per metric written, replaced or kept."""
        if self.card is None:
            return "card.json not written (write_card=False / --no-card)"
        return "\n".join(self.card.messages)
