"""Tests of gradelib.datasets: the data that ships with the course."""
import numpy as np

from gradelib.datasets import load_digits, load_zen


def test_digits_are_the_uci_test_set():
    """Are there 1797 8x8 images in 0..16 with about 180 of each digit?"""
    X, y = load_digits()
    assert X.shape == (1797, 64) and y.shape == (1797,)
    assert X.min() == 0 and X.max() == 16 and X.dtype == np.float64
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def test_zen_is_readable_english(capsys):
    """Is the Zen of Python returned decoded, without printing it?"""
    text = load_zen()
    assert text.startswith("The Zen of Python") and "Beautiful is better than ugly." in text
    assert capsys.readouterr().out == ""
