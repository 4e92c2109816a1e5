"""The trained recogniser's dictionary must spell every plate Vigil handles, and keep the old
model's classes in place (the fine-tune copies its rows by position)."""

from __future__ import annotations

from pathlib import Path

from analytics.plates_read import load_alphabet
from core.plates import DIGITS, FORMAT_SLOTS, ISSUERS, PROVINCES, SUFFIXES
from training.vocab import OLD_DICT, build_vocab, encode, required_chars, write_dict


def test_vocab_covers_every_format_slot_and_special_text() -> None:
    vocab = set(build_vocab())
    for name, slots in FORMAT_SLOTS.items():
        for index, chars in enumerate(slots):
            assert chars <= vocab, (name, index, sorted(chars - vocab))
    for char in PROVINCES + DIGITS + ISSUERS + SUFFIXES + "使民航应急O":
        assert char in vocab


def test_old_dictionary_is_an_unchanged_prefix() -> None:
    vocab = build_vocab()
    assert len(OLD_DICT) == 72
    assert "".join(vocab[:72]) == OLD_DICT
    assert len(set(vocab)) == len(vocab)
    assert set(vocab[72:]) == {"O", "民", "航", "应", "急"}
    assert set(required_chars()) <= set(vocab)


def test_dictionary_file_round_trips_through_the_runtime_loader(tmp_path: Path) -> None:
    vocab = build_vocab()
    path = tmp_path / "rec_dict.txt"
    write_dict(vocab, path)
    alphabet = load_alphabet(path)
    assert alphabet == ("", *vocab)
    labels = encode("民航12345", vocab)
    assert "".join(alphabet[i] for i in labels) == "民航12345"
