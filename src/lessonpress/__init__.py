"""lessonpress: a static site generator for lesson newsletters."""

__version__ = "0.1.0"
