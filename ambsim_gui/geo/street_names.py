"""Street names for the generated maps: English-sounding and invented.

One job: ``distinct_names`` draws names like "Elm Grove" without replacement, from the words
and kinds of street both maps share (``STREET_WORDS``, ``STREET_KINDS``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def distinct_names(
    rng: np.random.Generator, words: Sequence[str], kinds: Sequence[str], k: int
) -> list[str]:
    """k distinct names like "Elm Grove", drawn without replacement."""
    combos = [f"{w} {t}" for w in words for t in kinds]
    order = rng.permutation(len(combos))
    return [combos[i] for i in order[:k]]


STREET_WORDS = (
    "Acacia", "Albert", "Alma", "Ash", "Beech", "Bridge", "Brook", "Castle", "Cedar", "Chapel",
    "Cherry", "Church", "Clarence", "Coronation", "Cromwell", "Elm", "Fairfield", "Forge",
    "Garden", "George", "Gladstone", "Grange", "Green", "Grove", "Hawthorn", "Hazel", "Highfield",
    "Hill", "Holly", "Kings", "Laurel", "Lime", "Manor", "Maple", "Market", "Meadow", "Mill",
    "Nelson", "Newton", "Oak", "Orchard", "Park", "Priory", "Queens", "Rectory", "Rose",
    "St Johns", "Salisbury", "School", "Spring", "Station", "Sycamore", "Tannery", "Tower",
    "Union", "Victoria", "Vicarage", "Walnut", "Water", "Well", "Wellington", "Willow", "Windsor",
    "York",
)
STREET_KINDS = ("Street", "Road", "Lane", "Avenue", "Grove", "Close", "Way", "Gardens", "Terrace")
