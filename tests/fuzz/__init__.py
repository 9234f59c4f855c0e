"""File-mutation fuzzing of ganeval's readers (see :mod:`fuzz.engine`)."""
