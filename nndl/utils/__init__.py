"""Small numerical helpers: moving averages of a sequence (``ema``, ``sma``)."""

from nndl.utils.averages import ema, sma

__all__ = ["ema", "sma"]
