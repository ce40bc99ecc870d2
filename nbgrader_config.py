"""nbgrader configuration for the course (read by the `nbgrader` command and the formgrader,
from the folder they run in).

The settings live in gradelib.course so that gradelib's own commands use the same ones: the
course's folders, the class's data where `gradelib grade --submissions submitted/ --out
grading-out/` puts it (so the formgrader shows that gradebook and nothing lands in the repo
root), and feedback pages that never show hidden tests and render math offline.
"""
from pathlib import Path

from gradelib.course import class_config

c = get_config()  # noqa: F821 - injected by traitlets when nbgrader loads this file
c.merge(class_config(Path(__file__).resolve().parent))

# nbgrader 0.9.6 with SQLAlchemy 2 warns "Object of type <SubmittedAssignment> not in
# session" when `nbgrader autograde --create` adds a student; the rows are written all the same.
import warnings  # noqa: E402

from sqlalchemy.exc import SAWarning  # noqa: E402

warnings.filterwarnings("ignore", message=r"Object of type <Submitted\w+> not in session", category=SAWarning)
