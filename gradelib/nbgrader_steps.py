"""nbgrader preprocessors that make its own commands quiet and safe with this course.

`OverwriteCellsKnowingHiddenTests` replaces nbgrader's ``OverwriteCells`` in Autograde's
sanitize chain (set in `gradelib.course.nbgrader_config()`). nbgrader stores a test cell in
the gradebook with its hidden tests, and releases it without them, so stock
``OverwriteCells`` finds every test cell with hidden tests "changed" and logs a warning for
each, on every submission, although nothing was edited. This step first puts the hidden
tests back into a test cell whose source is exactly the released one; a cell the learner
really changed is left alone, and nbgrader restores it with its usual warning.
"""
from __future__ import annotations

import copy

from nbgrader.api import MissingEntry
from traitlets import List
from nbgrader.preprocessors import ClearHiddenTests, OverwriteCells

__all__ = ["ClearHiddenTestsInFeedback", "OverwriteCellsKnowingHiddenTests"]


class OverwriteCellsKnowingHiddenTests(OverwriteCells):
    """nbgrader's OverwriteCells, with released test cells restored silently (see module docstring)."""

    def preprocess_cell(self, cell, resources, cell_index):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id is not None and cell.metadata.nbgrader.get("locked"):
            try:
                source = self.gradebook.find_source_cell(grade_id, self.notebook_id, self.assignment_id)
            except MissingEntry:
                source = None  # OverwriteCells reports it
            if source is not None and source.locked and cell.source != source.source:
                released = copy.deepcopy(cell)
                released.source = source.source
                ClearHiddenTests(parent=self)._remove_hidden_test_region(released)
                if released.source == cell.source:
                    cell.source = source.source
        return super().preprocess_cell(cell, resources, cell_index)


class ClearHiddenTestsInFeedback(ClearHiddenTests):
    """nbgrader's ClearHiddenTests, for GenerateFeedback's chain.

    The HTML exporter configures ``display_data_priority`` on every preprocessor it runs;
    nbgrader's preprocessors declare that trait without ``config=True``, so stock
    ClearHiddenTests logs "Config option `display_data_priority` not recognized" on every
    page. Declaring it configurable is the whole difference.
    """

    display_data_priority = List(ClearHiddenTests.class_traits()["display_data_priority"].default()).tag(config=True)
